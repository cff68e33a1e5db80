/**
 * What the operations thread knows of the model lifecycle and the experiments, to label
 * their metrics: each catalog slot's name and version, each arm slot's experiment and arm
 * (both kept current by listening on the registry's channel, model-protocol.ts), and which
 * slot is active, shadow or canary (read from the control block at scrape time).
 */
import { BroadcastChannel } from 'node:worker_threads';
import type { ArmLabel, ExperimentsSnapshot } from '../experiments/experiment-table';
import { ModelControlReader, emptySettings, type ModelSettings } from '../models/model-control';
import type { ToEngines } from '../models/model-protocol';

export interface LifecycleInit {
  control: SharedArrayBuffer;
  channel: string;
  models: { slot: number; name: string; version: string }[];
  arms: ArmLabel[];
}

export class LifecycleView {
  private readonly models = new Map<number, { name: string; version: string }>();
  private readonly arms = new Map<number, ArmLabel>();
  private readonly reader: ModelControlReader;
  private readonly channel: BroadcastChannel;
  private catalogVersion = 0;
  private experimentsVersion = 0;

  constructor(init: LifecycleInit) {
    this.reader = new ModelControlReader(init.control);
    for (const m of init.models) this.models.set(m.slot, { name: m.name, version: m.version });
    for (const a of init.arms) this.arms.set(a.slot, a);
    this.channel = new BroadcastChannel(init.channel);
    (this.channel as unknown as { unref?: () => void }).unref?.();
    this.channel.onmessage = (event: unknown) => this.onMessage((event as { data: ToEngines }).data);
  }

  model(slot: number): { name: string; version: string } | undefined {
    return this.models.get(slot);
  }

  arm(slot: number): ArmLabel | undefined {
    return this.arms.get(slot);
  }

  modelSlots(): number[] {
    return [...this.models.keys()];
  }

  settings(): ModelSettings {
    return this.reader.read(emptySettings());
  }

  close(): void {
    this.channel.close();
  }

  private onMessage(m: ToEngines): void {
    if (m.type === 'catalog' && m.version > this.catalogVersion) {
      this.catalogVersion = m.version;
      // A withdrawn slot keeps its label: its counters were counted under that name.
      for (const c of m.models) this.models.set(c.slot, { name: c.name, version: c.version });
    } else if (m.type === 'experiments') {
      const s: ExperimentsSnapshot = m.snapshot;
      if (s.version <= this.experimentsVersion) return;
      this.experimentsVersion = s.version;
      for (const a of s.labels) this.arms.set(a.slot, a);
    }
  }
}
