import { action } from './action';
import {
  Lead,
  LeadsCreateInput,
  LeadsDeleteInput,
  LeadsDeleteOutput,
  LeadsGetInput,
  LeadsListInput,
  LeadsListOutput,
  LeadsUpdateInput,
} from './leads';

/** The `leads.*` actions. */
export const leadsActions = {
  'leads.create': action({
    summary: 'Add a lead (emits lead.created)',
    scope: 'leads:write',
    mutates: true,
    input: LeadsCreateInput,
    output: Lead,
  }),
  'leads.get': action({
    summary: 'One lead',
    scope: 'leads:read',
    mutates: false,
    input: LeadsGetInput,
    output: Lead,
  }),
  'leads.list': action({
    summary: 'List leads, newest first, optionally by status, source, tag or email',
    scope: 'leads:read',
    mutates: false,
    input: LeadsListInput,
    output: LeadsListOutput,
  }),
  'leads.update': action({
    summary: "Change a lead's details, status, notes or tags",
    scope: 'leads:write',
    mutates: true,
    input: LeadsUpdateInput,
    output: Lead,
  }),
  'leads.delete': action({
    summary: 'Delete a lead',
    scope: 'leads:write',
    mutates: true,
    input: LeadsDeleteInput,
    output: LeadsDeleteOutput,
  }),
};
