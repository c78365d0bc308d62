#!/usr/bin/env node
import { SCENARIO_NAMES, type ScenarioName } from './broker-scenarios';
import { SIM_VINS, startSimulator, type Simulator } from './index';
import { playScenarios } from './scenario-loop';
import type { SimulatorOptions } from './types';

// `cardata-simulator`: runs the simulator in the foreground for manual tests with n8n or Node-RED.
// It prints URLs and VINs only; tokens and client IDs never reach the terminal.

const USAGE = `Usage: cardata-simulator [options]

Runs a local BMW CarData (GCDM device login + Customer API + CarData stream) for development.

Options:
  --port N               port to listen on (default 4010; 0 = any free port)
  --host H               interface to bind (default 127.0.0.1)
  --quota N              REST calls per UTC day (default 50; "unlimited" for no limit)
  --auto-approve         approve device logins without opening the approval page
  --demo                 the sandbox's story: an old container (old-soc-export) and a battery below 20 %
                         for the first 20 minutes of every hour
  --access-token-ttl S   access/id token lifetime in seconds (default 3599)
  --sessions N           charging sessions of the BEV (default 400)
  --seed N               fixture seed (default 1)
  --stream-port N        port of the CarData stream (MQTT; default: --port + 1, or any free
                         port with --port 0)
  --no-stream            do not run the CarData stream
  --stream-scenarios L   scenarios played one after the other, in a loop: comma-separated list of
                         charging, plugged-waiting, doors, trip, or "none" (default: all four)
  --stream-interval S    seconds between two stream messages (default 5)
  --quiet                do not log requests
  --help                 show this help
`;

class UsageError extends Error {}

interface CliOptions {
  sim: SimulatorOptions;
  /** Undefined: the HTTP port + 1 (any free port when that is 0). */
  streamPort?: number;
  stream: boolean;
  scenarios: ScenarioName[];
  streamIntervalSec: number;
  quiet: boolean;
  help: boolean;
}

function intArg(flag: string, value: string | undefined, min: number): number {
  if (value === undefined || !/^\d+$/.test(value)) throw new UsageError(`${flag} needs a whole number, got ${value === undefined ? 'nothing' : `"${value}"`}`);
  const n = Number(value);
  if (n < min) throw new UsageError(`${flag} must be at least ${min}`);
  return n;
}

export function parseArgs(argv: string[]): CliOptions {
  const out: CliOptions = { sim: { port: 4010 }, stream: true, scenarios: [...SCENARIO_NAMES], streamIntervalSec: 5, quiet: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].startsWith('--') && argv[i].includes('=') ? argv[i].split(/=(.*)/s, 2) : [argv[i], undefined];
    const value = (): string | undefined => (inline !== undefined ? inline : argv[++i]);
    switch (flag) {
      case '--port': {
        const port = intArg(flag, value(), 0);
        if (port > 65535) throw new UsageError('--port must be at most 65535');
        out.sim.port = port;
        break;
      }
      case '--host': {
        const host = value();
        if (!host) throw new UsageError('--host needs a host name or address');
        out.sim.host = host;
        break;
      }
      case '--quota': {
        const v = value();
        out.sim.dailyQuota = v === 'unlimited' || v === 'Infinity' ? Infinity : intArg(flag, v, 0);
        break;
      }
      case '--auto-approve':
        out.sim.autoApprove = true;
        break;
      case '--demo':
        out.sim.demo = true;
        break;
      case '--access-token-ttl':
        out.sim.accessTokenTtlSec = intArg(flag, value(), 1);
        break;
      case '--sessions':
        out.sim.chargingSessions = intArg(flag, value(), 0);
        break;
      case '--seed':
        out.sim.seed = intArg(flag, value(), 0);
        break;
      case '--stream-port': {
        const port = intArg(flag, value(), 0);
        if (port > 65535) throw new UsageError('--stream-port must be at most 65535');
        out.streamPort = port;
        break;
      }
      case '--no-stream':
        out.stream = false;
        break;
      case '--stream-scenarios': {
        const v = value();
        if (!v) throw new UsageError('--stream-scenarios needs a list such as charging,doors,trip or "none"');
        const names = v === 'none' ? [] : v.split(',').map((n) => n.trim());
        const unknown = names.find((n) => !(SCENARIO_NAMES as readonly string[]).includes(n));
        if (unknown !== undefined) throw new UsageError(`unknown stream scenario "${unknown}" (use ${SCENARIO_NAMES.join(', ')} or none)`);
        out.scenarios = names as ScenarioName[];
        break;
      }
      case '--stream-interval':
        out.streamIntervalSec = intArg(flag, value(), 1);
        break;
      case '--quiet':
        out.quiet = true;
        break;
      case '--help':
      case '-h':
        out.help = true;
        break;
      default:
        throw new UsageError(`unknown argument "${argv[i]}"`);
    }
  }
  return out;
}

async function main(): Promise<void> {
  let cli: CliOptions;
  try {
    cli = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`cardata-simulator: ${err.message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (cli.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (cli.stream) {
    const httpPort = cli.sim.port ?? 4010;
    cli.streamPort ??= httpPort === 0 ? 0 : httpPort + 1;
    cli.sim.stream = { port: cli.streamPort };
  }
  if (!cli.quiet) {
    // Paths only: query strings can carry page tokens and are of no use in a console log.
    cli.sim.onRequest = (e) =>
      process.stdout.write(
        `${new Date(e.at).toISOString()} ${e.kind.padEnd(4)} ${e.method} ${e.path} -> ${e.status}${e.exveErrorId ? ` ${e.exveErrorId}` : ''}${e.oauthError ? ` ${e.oauthError}` : ''}\n`,
      );
  }

  // Handlers first: a supervisor may signal as soon as it reads the banner, or even before.
  let sim: Simulator | undefined;
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: stopping\n`);
    if (!sim) process.exit(0);
    sim.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  try {
    sim = await startSimulator(cli.sim);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const ports = cli.stream ? `ports ${cli.sim.port} and ${cli.streamPort}` : `port ${cli.sim.port}`;
    process.stderr.write(`cardata-simulator: cannot listen on ${cli.sim.host ?? '127.0.0.1'} ${ports}${code ? ` (${code})` : ''}\n`);
    process.exit(1);
  }

  const q = sim.quota();
  process.stdout.write(
    [
      'BMW CarData simulator running',
      `  API base URL:   ${sim.apiBaseUrl}`,
      `  Auth base URL:  ${sim.authBaseUrl}`,
      `  Approval page:  ${sim.authBaseUrl}/oneid/link${cli.sim.autoApprove ? ' (auto-approve on)' : ''}`,
      `  Daily quota:    ${q.limit === Infinity ? 'unlimited' : q.limit}`,
      `  Stream (MQTT):  ${sim.streamUrl ?? 'off'}${sim.streamUrl ? ` (scenarios: ${cli.scenarios.length ? `${cli.scenarios.join(', ')} every ${cli.streamIntervalSec} s` : 'none'})` : ''}`,
      '  VINs:',
      `    BEV (PRIMARY)        ${SIM_VINS.bev}`,
      `    PHEV (PRIMARY)       ${SIM_VINS.phev}`,
      `    SECONDARY (CU-104)   ${SIM_VINS.secondary}`,
      `    unmapped (CU-104)    ${SIM_VINS.unmapped}`,
      'Press Ctrl+C to stop.',
      '',
    ].join('\n'),
  );
  if (sim.streamUrl && cli.scenarios.length > 0) void playScenarios(sim, cli.scenarios, cli.streamIntervalSec * 1000, () => stopping);
}

/** The command as a process runs it: this file run by Node, or the clone's npx wrapper (in its own process). */
export function cli(): void {
  main().catch((err: unknown) => {
    process.stderr.write(`cardata-simulator: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}

if (require.main === module) cli();
