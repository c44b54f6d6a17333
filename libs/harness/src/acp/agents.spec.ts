import { chmodSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installRoot, resolveAcpCommand } from './agent-command';
import { GEMINI_ASSETS, knownAcpAgent, setUpKnownAgent } from './agents';
import { exitCodeOf } from './tools';

describe('known ACP agents', () => {
  it('are recognised by the program name, whatever its path, extension or node in front', () => {
    expect(knownAcpAgent(['gemini', '--acp'])).toBe('gemini');
    expect(knownAcpAgent(['/usr/lib/node_modules/@google/gemini-cli/bundle/gemini.js'])).toBe('gemini');
    expect(knownAcpAgent(['node', '/x/gemini.js', '--acp'])).toBe('gemini');
    expect(knownAcpAgent(['/x/node_modules/opencode-ai/bin/opencode.exe', 'acp'])).toBe('opencode');
    expect(knownAcpAgent(['my-agent'])).toBeNull();
  });

  it("Gemini CLI: ACP mode, an admin policy asking for every tool and system settings from Yoke's install, endpoint", () => {
    const home = mkdtempSync(join(tmpdir(), 'yoke-acp-gemini-'));
    const setup = setUpKnownAgent('gemini', ['/bin/gemini', '--experimental-acp'], {
      home,
      workspace: '/ws',
      model: 'gemini-2.5-flash',
      provider: { geminiBaseUrl: 'http://host.yoke.internal:9', geminiApiKey: 'placeholder' },
    });
    const policies = join(GEMINI_ASSETS, 'admin-policies');
    // Outside the home the agent may write to (Yoke's install is bound read-only inside Omnibox).
    expect(policies.startsWith(home)).toBe(false);
    expect(setup.argv).toEqual([
      '/bin/gemini',
      '--acp',
      '--approval-mode',
      'default',
      '--admin-policy',
      policies,
      '--model',
      'gemini-2.5-flash',
    ]);
    expect(readFileSync(join(policies, 'yoke-ask-every-tool.toml'), 'utf8')).toMatch(
      /toolName = "\*"\ndecision = "ask_user"/,
    );
    const settings = JSON.parse(readFileSync(join(home, '.gemini', 'settings.json'), 'utf8')) as {
      security: { disableAlwaysAllow: boolean };
      telemetry: { enabled: boolean };
    };
    expect(settings.security.disableAlwaysAllow).toBe(true);
    expect(settings.telemetry.enabled).toBe(false);
    expect(setup.env).toMatchObject({
      GEMINI_CLI_HOME: home,
      GEMINI_CLI_SYSTEM_SETTINGS_PATH: join(GEMINI_ASSETS, 'system-settings.json'),
      GOOGLE_GEMINI_BASE_URL: 'http://host.yoke.internal:9',
      GEMINI_API_KEY: 'placeholder',
    });
    expect(setup.modelApplied).toBe(true);
  });

  it('OpenCode: `acp`, one provider at the OpenAI-compatible endpoint, every permission `ask`, key from env', () => {
    const home = mkdtempSync(join(tmpdir(), 'yoke-acp-opencode-'));
    const setup = setUpKnownAgent('opencode', ['/bin/opencode'], {
      home,
      workspace: '/ws',
      model: 'gpt-4.1',
      provider: { openaiBaseUrl: 'http://host.yoke.internal:9/v1', openaiApiKey: 'placeholder' },
    });
    expect(setup.argv).toEqual(['/bin/opencode', 'acp']);
    const config = JSON.parse(readFileSync(setup.env.OPENCODE_CONFIG, 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({
      model: 'yoke/gpt-4.1',
      provider: {
        yoke: { options: { baseURL: 'http://host.yoke.internal:9/v1', apiKey: '{env:YOKE_OPENCODE_API_KEY}' } },
      },
      experimental: { continue_loop_on_deny: true },
    });
    expect(JSON.stringify(config)).not.toContain('placeholder');
    const permission = JSON.parse(setup.env.OPENCODE_PERMISSION) as Record<string, string>;
    expect(new Set(Object.values(permission))).toEqual(new Set(['ask']));
    expect(Object.keys(permission)).toEqual(expect.arrayContaining(['bash', 'edit', 'read', 'webfetch']));
    expect(setup.env).toMatchObject({
      XDG_CONFIG_HOME: join(home, '.config'),
      OPENCODE_DISABLE_PROJECT_CONFIG: 'true',
      YOKE_OPENCODE_API_KEY: 'placeholder',
    });
  });
});

describe('resolveAcpCommand', () => {
  const root = mkdtempSync(join(tmpdir(), 'yoke-acp-path-'));
  const pkg = join(root, 'lib', 'node_modules', 'opencode-ai', 'bin');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(pkg, 'opencode.exe'), '#!/bin/sh\n');
  chmodSync(join(pkg, 'opencode.exe'), 0o755);
  mkdirSync(join(root, 'bin'));
  symlinkSync(join(pkg, 'opencode.exe'), join(root, 'bin', 'opencode'));

  it('finds the command on PATH, follows its symlink and binds its node_modules', () => {
    const resolved = resolveAcpCommand(['opencode', 'acp'], `/nonexistent:${join(root, 'bin')}`);
    expect(resolved.argv).toEqual([join(pkg, 'opencode.exe'), 'acp']);
    expect(resolved.codePaths).toEqual([join(root, 'lib', 'node_modules')]);
  });

  it('names the PATH searched and the fix when the command is missing', () => {
    expect(() => resolveAcpCommand(['gemini', '--acp'], '/nonexistent')).toThrow(
      /"gemini" is not on this runner's PATH \(\/nonexistent\).*npm install -g @google\/gemini-cli/,
    );
    expect(() => resolveAcpCommand(['/nope/agent'], '/bin')).toThrow(/\/nope\/agent does not exist/);
  });

  it('install roots: the node_modules of a package, the prefix above bin/, nothing for system dirs', () => {
    expect(installRoot('/home/u/.npm/lib/node_modules/@google/gemini-cli/bundle/gemini.js')).toBe(
      '/home/u/.npm/lib/node_modules',
    );
    expect(installRoot('/home/u/.opencode/bin/opencode')).toBe('/home/u/.opencode');
    expect(installRoot('/usr/bin/agent')).toBeNull();
    expect(installRoot('/usr/local/lib/node_modules/x/cli.js')).toBe('/usr/local/lib/node_modules');
  });
});

describe('exitCodeOf', () => {
  it('reads the exit code from the raw output fields agents use, or an "Exit Code:" line', () => {
    expect(exitCodeOf({ exitCode: 2 }, '')).toBe(2);
    expect(exitCodeOf({ metadata: { exit: 3, output: '' } }, '')).toBe(3);
    expect(exitCodeOf(undefined, 'out\nExit Code: 1\n')).toBe(1);
    expect(exitCodeOf({}, 'no code here')).toBeNull();
  });
});
