import { CONFORMANCE_TARGETS, formatReport, requiredProblems, targetName, type ConformanceRun, type TargetRun } from './conformance-harness';

const REQUIREMENT_TARGETS = CONFORMANCE_TARGETS.filter((target) => 'requirements' in target);

/**
 * The tests both conformance specs make of a finished run, one set per target: every required
 * server scenario ran and passed, and nothing ran that the suite's listing did not name. Unscored
 * scenarios (extensions, pending, added after release) are printed, never asserted.
 */
export function expectConformance(run: () => ConformanceRun): void {
  const runOf = (name: string): TargetRun => {
    const found = run().runs.find((targetRun) => targetName(targetRun.target) === name);
    if (!found) throw new Error(`no conformance run for ${name}`);
    return found;
  };

  beforeAll(() => {
    // The report of what is not scored, and the time each run took (docs/conformance.md).
    console.log(formatReport(run(), { verbose: false }));
  });

  describe.each(CONFORMANCE_TARGETS.map(targetName))('%s', (name) => {
    it('runs every required server scenario, and reports the unscored ones', () => {
      const { plan, results } = runOf(name);
      const listed = [...plan.required, ...plan.unscored.map((u) => u.scenario)].sort();
      expect(plan.required.length).toBeGreaterThan(0);
      expect(results.map((r) => r.scenario)).toEqual(listed);
    });

    it('passes every required server scenario', () => {
      expect(requiredProblems(runOf(name))).toEqual([]);
    });
  });

  // Issue 14, item 6: behind the balancer, with only PUBLIC_GATEWAY_URL set, the suite's
  // same-origin request is accepted and its `Origin: http://evil.example.com` refused.
  it.each(REQUIREMENT_TARGETS.map(targetName))('accepts the public origin and refuses a rebinding one (dns-rebinding-protection, %s)', (name) => {
    const result = runOf(name).results.find((r) => r.scenario === 'dns-rebinding-protection');
    expect(result).toMatchObject({ unscored: undefined, passed: true, failures: [] });
  });
}
