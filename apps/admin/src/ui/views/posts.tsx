import type { Post, PostStatus } from '@ora/contracts';
import { useEffect, useState } from 'preact/hooks';
import { call } from '../api';
import { ErrorBox, Field, list, PageTitle, Select, Status, Table, useAction, useApp, useMutation, when } from '../lib';

export function PostsView({ id }: { id: string | null }) {
  const { notify } = useApp();
  const [status, setStatus] = useState('');
  const posts = useAction(
    'posts.list',
    { limit: 100, ...(status ? { status: status as PostStatus } : {}) },
    [status],
    (e) => e.type === 'post.published' || e.type.startsWith('task.'),
  );
  const [title, setTitle] = useState('');
  const { busy, error, run } = useMutation();
  return (
    <section>
      <PageTitle>Posts</PageTitle>
      <Select
        label="Status"
        value={status}
        onChange={setStatus}
        options={[
          ['', 'any'],
          ['draft', 'draft'],
          ['scheduled', 'scheduled'],
          ['published', 'published'],
          ['archived', 'archived'],
        ]}
      />
      <ErrorBox error={posts.error} />
      <Table caption="Posts, newest first" head={['Title', 'Status', 'Tags', 'Author', 'Published', 'Updated']}>
        {(posts.data?.items ?? []).map((p) => (
          <tr key={p.id}>
            <th scope="row">
              <a href={`#/posts/${p.id}`} aria-current={p.id === id ? 'true' : undefined}>
                {p.title}
              </a>
            </th>
            <td>
              <Status status={p.status} />
            </td>
            <td>{p.tags.join(', ')}</td>
            <td>{p.author.name ?? p.author.type}</td>
            <td>{when(p.publishedAt)}</td>
            <td>{when(p.updatedAt)}</td>
          </tr>
        ))}
      </Table>
      {id ? <PostEditor key={id} id={id} onChanged={() => void posts.reload()} /> : null}
      <form
        class="panel inline-form"
        aria-labelledby="new-post-title"
        onSubmit={async (e) => {
          e.preventDefault();
          const post = await run(() => call('posts.create', { title }));
          if (post) {
            notify(`Draft ${post.title} created`);
            setTitle('');
            await posts.reload();
            location.hash = `#/posts/${post.id}`;
          }
        }}
      >
        <h2 id="new-post-title">New draft</h2>
        <Field label="Title" value={title} onInput={setTitle} required />
        <button type="submit" disabled={busy}>
          Create draft
        </button>
        <ErrorBox error={error} />
      </form>
    </section>
  );
}

function PostEditor({ id, onChanged }: { id: string; onChanged: () => void }) {
  const { notify } = useApp();
  const post = useAction('posts.get', { id }, [id]);
  const [form, setForm] = useState<{ title: string; slug: string; body: string; excerpt: string; tags: string } | null>(
    null,
  );
  const { busy, error, run } = useMutation();
  const load = (p: Post) =>
    setForm({ title: p.title, slug: p.slug, body: p.body, excerpt: p.excerpt ?? '', tags: p.tags.join(', ') });
  useEffect(() => {
    if (post.data) load(post.data);
  }, [post.data]);
  const p = post.data;
  if (!p || !form) return <ErrorBox error={post.error} />;
  const set = (field: keyof typeof form) => (value: string) => setForm({ ...form, [field]: value });
  const act = async (label: string, work: () => Promise<Post>) => {
    const out = await run(work);
    if (out) {
      notify(label);
      post.setData(out);
      onChanged();
    }
  };
  return (
    <form
      class="panel"
      aria-labelledby="post-edit-title"
      onSubmit={(e) => {
        e.preventDefault();
        void act('Post saved', () =>
          call('posts.update', {
            id,
            title: form.title,
            slug: form.slug,
            body: form.body,
            excerpt: form.excerpt || null,
            tags: list(form.tags),
            expectedRevision: p.revision,
          }),
        );
      }}
    >
      <h2 id="post-edit-title">Edit “{p.title}”</h2>
      <p class="muted">
        <Status status={p.status} /> · revision {p.revision} · updated {when(p.updatedAt)}
      </p>
      <Field label="Title" value={form.title} onInput={set('title')} required />
      <Field label="Slug" value={form.slug} onInput={set('slug')} />
      <Field label="Body (Markdown)" multiline rows={12} value={form.body} onInput={set('body')} />
      <Field label="Excerpt" multiline rows={2} value={form.excerpt} onInput={set('excerpt')} />
      <Field label="Tags" value={form.tags} onInput={set('tags')} hint="Comma-separated" />
      <div class="actions">
        <button type="submit" disabled={busy}>
          Save post
        </button>
        {p.status === 'published' ? (
          <button
            type="button"
            disabled={busy}
            onClick={() => void act('Post unpublished', () => call('posts.unpublish', { id }))}
          >
            Unpublish
          </button>
        ) : (
          <button
            type="button"
            disabled={busy}
            onClick={() => void act('Post published', () => call('posts.publish', { id }))}
          >
            Publish
          </button>
        )}
        {p.status === 'published' ? (
          <a href={`/posts/${p.slug}`} target="_blank" rel="noopener">
            View on the site
          </a>
        ) : null}
      </div>
      <ErrorBox error={error} />
    </form>
  );
}
