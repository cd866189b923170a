import { action } from './action';
import {
  Conversation,
  ConversationsAppendInput,
  ConversationsAppendOutput,
  ConversationsArchiveInput,
  ConversationsCreateInput,
  ConversationsGetInput,
  ConversationsListInput,
  ConversationsListOutput,
  ConversationsSummarizeInput,
  ConversationsSummarizeOutput,
  ConversationWithMessages,
} from './conversations';

/** The `conversations.*` actions. A key bound to an agent reaches only that agent's conversations. */
export const conversationsActions = {
  'conversations.create': action({
    summary: 'Start a conversation, optionally with its first messages',
    scope: 'conversations:write',
    mutates: true,
    input: ConversationsCreateInput,
    output: ConversationWithMessages,
  }),
  'conversations.get': action({
    summary: 'A conversation with its latest messages (page back with beforeSeq)',
    scope: 'conversations:read',
    mutates: false,
    input: ConversationsGetInput,
    output: ConversationWithMessages,
  }),
  'conversations.list': action({
    summary: 'List conversations, most recently active first',
    scope: 'conversations:read',
    mutates: false,
    input: ConversationsListInput,
    output: ConversationsListOutput,
  }),
  'conversations.append': action({
    summary: 'Append messages; a message id already present is not appended again',
    scope: 'conversations:write',
    mutates: true,
    input: ConversationsAppendInput,
    output: ConversationsAppendOutput,
  }),
  'conversations.archive': action({
    summary: 'Archive a conversation (its messages are kept)',
    scope: 'conversations:write',
    mutates: true,
    input: ConversationsArchiveInput,
    output: Conversation,
  }),
  'conversations.summarize': action({
    summary: 'Fold all but the latest messages into the thread summary; the messages themselves are kept',
    scope: 'conversations:write',
    mutates: true,
    input: ConversationsSummarizeInput,
    output: ConversationsSummarizeOutput,
  }),
};
