import { action } from './action';
import { SettingsGetInput, SettingsOutput, SettingsSetInput } from './settings';

/** The `settings.*` actions. */
export const settingsActions = {
  'settings.get': action({
    summary: 'The site settings (defaults where never set)',
    scope: 'settings:read',
    mutates: false,
    input: SettingsGetInput,
    output: SettingsOutput,
  }),
  'settings.set': action({
    summary: 'Change some site settings; the rest stay as they are',
    scope: 'settings:write',
    mutates: true,
    input: SettingsSetInput,
    output: SettingsOutput,
  }),
};
