import { clientInfoBuiltin } from './commands/client-info.js';
import { echoBuiltin } from './commands/echo.js';
import { imgextBuiltin } from './commands/imgext.js';
import { reloadBotsConfigBuiltin } from './commands/reload-bots-config.js';

/**
 * The built-in commands, in the old server's matching order. Adding one is a file in
 * `commands/` exporting a `defineBuiltin(...)` and a line here (and its import).
 */
export const BUILTIN_COMMANDS = [echoBuiltin, clientInfoBuiltin, imgextBuiltin, reloadBotsConfigBuiltin] as const;
