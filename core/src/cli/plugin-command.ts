import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import { CliError } from './cli-io.js';
import type { CliIo } from './cli-io.js';
import { identifierOf, packageNameOf, pluginTemplate } from './plugin-template.js';

const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

function parseName(value: string): string {
  if (!NAME.test(value) || value.length > 40) throw new InvalidArgumentError('expected lowercase letters, digits and single dashes, starting with a letter (at most 40).');
  return value;
}

/** This installation's folder of one of its workspace packages (what the scaffold links to). */
function ownPackageDir(relative: string): string {
  return realpathSync(fileURLToPath(new URL(`../../../${relative}`, import.meta.url)));
}

function vitestVersion(): string {
  try {
    const root = ownPackageDir('.');
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> };
    return pkg.devDependencies?.vitest ?? '^4.1.0';
  } catch {
    return '^4.1.0';
  }
}

/**
 * `botbridge create plugin <name>` (the documented name, as `koishi create` / `nb plugin create`)
 * and its alias `botbridge plugin create <name>`: scaffolds a plugin package outside this repository.
 */
export function addPluginCommands(program: Command, io: CliIo): void {
  const create = program.command('create').description('create a package from a template');
  addCreate(create.command('plugin'), io);
  const group = program.command('plugin').description('work with plugin packages');
  addCreate(group.command('create'), io);
}

function addCreate(command: Command, io: CliIo): void {
  command
    .description('create a plugin package (zod config, a # command, a test on @botbridge/testing, a README)')
    .argument('<name>', 'plugin name: lowercase letters, digits, dashes', parseName)
    .option('--dir <folder>', 'where to create it (default: ./botbridge-plugin-<name>)')
    .action((name: string, options: { dir?: string }) => {
      const target = resolve(options.dir ?? packageNameOf(name));
      if (existsSync(target)) throw new CliError(`${target} already exists; choose another --dir or remove it`);
      const files = pluginTemplate({ name, sdkDir: ownPackageDir('sdk'), testingDir: ownPackageDir('testing'), vitestVersion: vitestVersion() });
      for (const [path, content] of Object.entries(files)) {
        const file = join(target, path);
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, content, { flag: 'wx' });
      }
      io.out([
        `created ${packageNameOf(name)} in ${target}`,
        '',
        `  cd ${target} && npm install && npm test`,
        '',
        'then, in the folder of your bridge.config.ts:',
        `  npm install ${target}`,
        `  import { ${identifierOf(name)} } from '${packageNameOf(name)}';   // and list it under plugins`,
        '',
      ].join('\n'));
    });
}
