import { action } from './action';
import {
  Agent,
  AgentDetail,
  AgentsGetInput,
  AgentsListInput,
  AgentsListOutput,
  AgentsRunInput,
  AgentsRunOutput,
  AgentsUpdateInput,
  OraDelegateInput,
  OraDelegateOutput,
} from './agents';

/** `agents.list|get|update|run` (agents.status is with the tasks). */
export const agentsActions = {
  'agents.list': action({
    summary: 'The agents: the five sub-agents, the ora planner, and any added since',
    scope: 'agents:read',
    mutates: false,
    input: AgentsListInput,
    output: AgentsListOutput,
  }),
  'agents.get': action({
    summary: 'One agent with the tools it may call and its recent runs',
    scope: 'agents:read',
    mutates: false,
    input: AgentsGetInput,
    output: AgentDetail,
  }),
  'agents.update': action({
    summary: "Change an agent's prompt, model, fallbacks, tools, limits or configuration",
    scope: 'agents:write',
    mutates: true,
    input: AgentsUpdateInput,
    output: Agent,
  }),
  'agents.run': action({
    summary: 'Run an agent on an input now: waits up to waitMs for the result, else returns the task id',
    scope: 'agents:write',
    mutates: true,
    input: AgentsRunInput,
    output: AgentsRunOutput,
  }),
};

/** `ora.delegate`: the planner turns a request into a workflow run or a DAG. */
export const oraActions = {
  'ora.delegate': action({
    summary: 'Turn a request in plain words into a plan (a workflow run or a DAG of tasks); execute: true creates it',
    scope: 'ora:write',
    mutates: true,
    input: OraDelegateInput,
    output: OraDelegateOutput,
  }),
};
