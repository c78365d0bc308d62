import type { ScenarioName } from './broker-scenarios';
import type { Simulator } from './index';

/** Plays the scenarios one after the other on the BEV, again and again, so connected nodes see live data. */
export async function playScenarios(sim: Simulator, names: ScenarioName[], intervalMs: number, stopped: () => boolean): Promise<void> {
  while (!stopped()) {
    for (const name of names) {
      if (stopped()) return;
      try {
        await sim.stream.startScenario(name, { intervalMs }).done;
      } catch {
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}
