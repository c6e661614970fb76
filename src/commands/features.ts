// features: what runts really supports (runtime-spec features.md), built by the container layer from the tables
// the validator and the planner use (src/container/features.ts).
import type { Globals } from '../action';
import { stdout } from '../io';
import { featuresDoc } from '../container/features';

export function features(_g: Globals) {
  stdout(JSON.stringify(featuresDoc(), null, 2) + '\n');
}
