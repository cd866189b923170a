import type { WorkflowDefinition } from '@ora/contracts';

/**
 * Workflows ORA ships with. A change to one is a new version here (the stored versions stay, so
 * runs can always be traced to the definition they ran).
 */
export const builtinWorkflows: Array<{ name: string; version: number; definition: WorkflowDefinition }> = [
  {
    name: 'publish_post',
    version: 1,
    definition: {
      description: 'Write a draft, then optimise it for search and illustrate it in parallel, then publish it',
      input: {
        topic: { type: 'string', required: true },
        audience: { type: 'string', required: false },
        keywords: { type: 'string', required: false },
      },
      steps: [
        {
          ref: 'draft',
          agent: 'writer',
          taskType: 'write_post',
          title: 'Write a draft about {{input.topic}}',
          input: { topic: '{{input.topic}}', audience: '{{input.audience}}', keywords: '{{input.keywords}}' },
        },
        {
          ref: 'seo',
          agent: 'seo',
          taskType: 'optimize_seo',
          title: 'Optimise the post about {{input.topic}} for search',
          input: { keywords: '{{input.keywords}}' },
          dependsOn: ['draft'],
        },
        {
          ref: 'image',
          agent: 'imager',
          taskType: 'generate_image',
          title: 'Illustrate the post about {{input.topic}}',
          input: { topic: '{{input.topic}}' },
          dependsOn: ['draft'],
        },
        {
          ref: 'publish',
          taskType: 'publish_post',
          title: 'Publish the post about {{input.topic}}',
          input: {},
          dependsOn: ['seo', 'image'],
        },
      ],
    },
  },
];
