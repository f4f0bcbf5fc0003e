/** Why the suite runs a scenario without scoring it (its requirement sets' `not_scored` reasons). */
export const UNSCORED_REASONS = ['extension', 'added-after-release', 'pending'] as const;
export type UnscoredReason = (typeof UNSCORED_REASONS)[number];

export interface UnscoredScenario {
  scenario: string;
  reason: UnscoredReason;
}

/** The server scenarios one suite run is expected to run: those that count, and those only reported. */
export interface ScenarioPlan {
  required: string[];
  unscored: UnscoredScenario[];
}

const SERVER_SECTION = 'Server scenarios (test against a server):';
const UNSCORED_SECTION = 'Run and reported, but never scored:';

/**
 * Reads the suite's `list --server` output, with `--requirements R` or `--spec-version V`:
 *
 *     Server scenarios (test against a server):
 *       - tools-list                        (`--spec-version` adds ` [2025-06-18,…]`)
 *     Client scenarios (test against a client):
 *       - tools_call                        (client ones are listed too; they are not ours)
 *     Run and reported, but never scored:
 *       extension (16):
 *         - tasks-lifecycle [server]
 *
 * Throws on a line it does not understand, so a format change in a suite bump fails loudly
 * instead of quietly scoring nothing.
 */
export function parseServerListing(text: string): ScenarioPlan {
  const required: string[] = [];
  const unscored: UnscoredScenario[] = [];
  let section: 'server' | 'client' | 'unscored' | undefined;
  let reason: UnscoredReason | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('Required for ')) continue;
    if (line === SERVER_SECTION) section = 'server';
    else if (line.startsWith('Client scenarios')) section = 'client';
    else if (line === UNSCORED_SECTION) section = 'unscored';
    else if (section === 'server' && /^ {2}- /.test(line)) required.push(scenarioName(line));
    else if (section === 'client' && /^ {2}- /.test(line)) continue;
    else if (section === 'unscored' && /^ {2}\S/.test(line)) reason = unscoredReason(line);
    else if (section === 'unscored' && reason && /^ {4}- .* \[server\]$/.test(line)) unscored.push({ scenario: scenarioName(line), reason });
    else if (section === 'unscored' && /^ {4}- .* \[client\]$/.test(line)) continue;
    else throw new Error(`unexpected line in the conformance suite's listing: ${JSON.stringify(line)}`);
  }
  if (required.length === 0) throw new Error(`the conformance suite's listing names no server scenario:\n${text}`);
  return { required: required.sort(), unscored: unscored.sort((a, b) => a.scenario.localeCompare(b.scenario)) };
}

function scenarioName(line: string): string {
  return line.trim().replace(/^- /, '').replace(/ \[.*\]$/, '');
}

function unscoredReason(line: string): UnscoredReason {
  const name = line.trim().replace(/ \(\d+\):$/, '');
  const reason = UNSCORED_REASONS.find((known) => known === name);
  if (!reason) throw new Error(`unknown reason for an unscored conformance scenario: ${JSON.stringify(line)}`);
  return reason;
}
