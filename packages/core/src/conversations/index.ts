export type { ConversationDeps } from './conversations.service';
export {
  appendMessages,
  archiveConversation,
  createConversation,
  getConversation,
  listConversations,
  summarizeConversation,
  summarizeConversationJob,
} from './conversations.service';
