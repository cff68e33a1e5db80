/**
 * deploy/k8s against itself, the image and the bidder: every YAML parses (as Kubernetes
 * reads it, YAML 1.1); the base's kustomization resolves and its config.json passes the
 * bidder's own loadConfig with the container's environment; and the invariants that keep
 * a pod schedulable, probed, drained and locked down hold (Guaranteed QoS on whole cores,
 * probes on the ops port, a grace period that covers preStop and the drain, a read-only
 * root with the event log on a writable volume, the secrets where the config reads them,
 * Service, PodDisruptionBudget and HorizontalPodAutoscaler on the bidder's pods). Overlays
 * build on ../../base and patch what exists. With kubectl (or kustomize) on PATH the base
 * and every overlay are also rendered and checked the same way.
 *
 * Each invariant is shown to fail on a manifest that breaks it.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, relative, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ENV_VARS, loadConfig, type BidderConfig } from '../../src/config/config';
import { M } from '../../src/metrics/definitions';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

const REPO = resolve(__dirname, '../..');
const K8S = join(REPO, 'deploy/k8s');
const BASE = join(K8S, 'base');
const OVERLAYS = join(K8S, 'overlays');
const SECRET_NAME = 'rtb-bidder-secrets';
const SECRET_KEYS = { notice: 'notice-key', admin: 'admin-token' } as const;

// ---------------------------------------------------------------------------------------
// Loading

/** Every document of a YAML text, read with YAML 1.1 rules as Kubernetes does (0440 is octal, yes is true). */
function parseYaml(text: string, where: string): Obj[] {
  const docs = parseAllDocuments(text, { version: '1.1' });
  const out: Obj[] = [];
  for (const d of Array.isArray(docs) ? docs : []) {
    if (d.errors.length > 0) throw new Error(`${where}: ${d.errors.map((e) => e.message).join('; ')}`);
    const v = d.toJS() as unknown;
    if (v !== null && v !== undefined) out.push(v as Obj);
  }
  return out;
}

function loadYaml(file: string): Obj[] {
  return parseYaml(readFileSync(file, 'utf8'), relative(REPO, file));
}

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...yamlFiles(p));
    else if (/\.ya?ml$/.test(name)) out.push(p);
  }
  return out;
}

function kustomization(dir: string): Obj {
  const [k] = loadYaml(join(dir, 'kustomization.yaml'));
  return k;
}

/** The objects a kustomization's `resources` name (files, or folders with their own kustomization), unpatched. */
function resourcesOf(dir: string): Obj[] {
  const k = kustomization(dir);
  const out: Obj[] = [];
  for (const r of (k.resources ?? []) as string[]) {
    const p = resolve(dir, r);
    if (existsSync(p) && statSync(p).isDirectory()) out.push(...resourcesOf(p), ...generatedConfigMaps(p));
    else out.push(...loadYaml(p));
  }
  return out;
}

/** What configMapGenerator makes, under its plain name (the hash suffix is kustomize's). */
function generatedConfigMaps(dir: string): Obj[] {
  const k = kustomization(dir);
  return ((k.configMapGenerator ?? []) as Obj[]).map((g) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: g.name },
    data: Object.fromEntries(((g.files ?? []) as string[]).map((f) => {
      const [key, path] = f.includes('=') ? f.split('=') : [posix.basename(f), f];
      return [key, readFileSync(join(dir, path), 'utf8')];
    })),
  }));
}

/** The base as kustomize would give it, but for hash suffixes, labels and images. */
function rawBase(): Obj[] {
  return [...resourcesOf(BASE), ...generatedConfigMaps(BASE)];
}

/** What deploy/Dockerfile says about the runtime user, the event log and the ports. */
function imageFacts(): { uid: number; gid: number; eventsDir: string; exposed: number[]; env: Record<string, string> } {
  const text = readFileSync(join(REPO, 'deploy/Dockerfile'), 'utf8');
  const user = /^USER\s+(\d+):(\d+)\s*$/m.exec(text);
  const env: Record<string, string> = {};
  for (const m of text.matchAll(/^ENV\s+([A-Z_]+)=(\S+)\s*$/gm)) env[m[1]] = m[2];
  const exposed = [...text.matchAll(/^EXPOSE\s+(.+)$/gm)].flatMap((m) => m[1].trim().split(/\s+/).map((p) => Number(p.split('/')[0])));
  return { uid: Number(user?.[1] ?? NaN), gid: Number(user?.[2] ?? NaN), eventsDir: env.BIDDER_EVENTS_DIR ?? '', exposed, env };
}
const IMAGE = imageFacts();

// ---------------------------------------------------------------------------------------
// Helpers

const kinds = (objs: Obj[], kind: string): Obj[] => objs.filter((o) => o.kind === kind);
const subset = (sel: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean =>
  !!sel && Object.keys(sel).length > 0 && Object.entries(sel).every(([k, v]) => labels?.[k] === v);

/** Kubernetes quantities: "2", "1500m", "2Gi", "512Mi", "1G". */
function quantity(q: unknown): number {
  const s = String(q);
  const m = /^(\d+(?:\.\d+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(s);
  if (!m) return NaN;
  const mult: Record<string, number> = { m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
  return Number(m[1]) * (m[2] ? mult[m[2]] : 1);
}

interface Workload { obj: Obj; podLabels: Record<string, string>; spec: Obj }
function workloads(objs: Obj[]): Workload[] {
  return objs
    .filter((o) => ['Deployment', 'StatefulSet', 'DaemonSet'].includes(o.kind))
    .map((o) => ({ obj: o, podLabels: o.spec?.template?.metadata?.labels ?? {}, spec: o.spec?.template?.spec ?? {} }));
}

/** The file a volumeMount + volume puts at `path`: which source (ConfigMap/Secret), which key, what mode. */
interface MountedFile { volume: string; readOnly: boolean; kind: 'configMap' | 'secret'; name: string; key: string; mode: number | undefined }
function fileAt(container: Obj, podSpec: Obj, path: string): MountedFile | null {
  for (const m of (container.volumeMounts ?? []) as Obj[]) {
    const dir = String(m.mountPath).replace(/\/$/, '');
    if (!path.startsWith(`${dir}/`)) continue;
    const rel = path.slice(dir.length + 1);
    const vol = ((podSpec.volumes ?? []) as Obj[]).find((v) => v.name === m.name);
    if (!vol) continue;
    const sources: Array<{ kind: 'configMap' | 'secret'; src: Obj; defaultMode: number | undefined }> = [];
    if (vol.configMap) sources.push({ kind: 'configMap', src: vol.configMap, defaultMode: vol.configMap.defaultMode });
    if (vol.secret) sources.push({ kind: 'secret', src: { ...vol.secret, name: vol.secret.secretName }, defaultMode: vol.secret.defaultMode });
    for (const s of (vol.projected?.sources ?? []) as Obj[]) {
      if (s.configMap) sources.push({ kind: 'configMap', src: s.configMap, defaultMode: vol.projected.defaultMode });
      if (s.secret) sources.push({ kind: 'secret', src: s.secret, defaultMode: vol.projected.defaultMode });
    }
    for (const s of sources) {
      const items = s.src.items as Obj[] | undefined;
      const item = items ? items.find((i) => i.path === rel) : undefined;
      if (items && !item) continue;
      const key = item ? String(item.key) : rel;
      return { volume: vol.name, readOnly: m.readOnly === true, kind: s.kind, name: String(s.src.name), key, mode: item?.mode ?? s.defaultMode ?? 0o644 };
    }
  }
  return null;
}

/** A value that stands for env taken from elsewhere (fieldRef, secretKeyRef) and still passes validation. */
function placeholder(name: string): string {
  if (name === 'BIDDER_REDIS_URL') return 'rediss://managed-redis.example.invalid:6379';
  const kind = ENV_VARS[name]?.kind;
  return kind === 'int' || kind === 'bool' ? '1' : 'placeholder';
}

/**
 * The configuration a bidder pod resolves: the ConfigMap's config.json (from the file
 * BIDDER_CONFIG names), the image's ENV, then the container's env, with the CPU budget
 * the container's limit gives.
 */
type PodConfig = {
  ok: true;
  config: BidderConfig;
  /** config.json as written. */
  file: Obj;
  /** Variables with a value in the image or the manifest (not from a Secret or the downward API). */
  literalEnv: Record<string, string>;
} | { ok: false; errors: string[] };
function podConfig(objs: Obj[]): PodConfig {
  const dep = kinds(objs, 'Deployment')[0];
  const podSpec = dep?.spec?.template?.spec ?? {};
  const c = ((podSpec.containers ?? []) as Obj[]).find((x) => x.name === 'bidder');
  if (!c) return { ok: false, errors: ['no bidder container'] };
  const env: Record<string, string> = { ...IMAGE.env };
  const literal: Record<string, string> = { ...IMAGE.env };
  for (const e of (c.env ?? []) as Obj[]) {
    env[e.name] = e.value !== undefined ? String(e.value) : placeholder(e.name);
    if (e.value !== undefined) literal[e.name] = String(e.value);
    else delete literal[e.name];
  }
  const configPath = env.BIDDER_CONFIG;
  if (!configPath) return { ok: false, errors: ['no BIDDER_CONFIG in the container env'] };
  const file = fileAt(c, podSpec, configPath);
  if (!file || file.kind !== 'configMap') return { ok: false, errors: [`BIDDER_CONFIG=${configPath} is no file of a mounted ConfigMap`] };
  const cm = kinds(objs, 'ConfigMap').find((m) => m.metadata?.name === file.name);
  if (!cm) return { ok: false, errors: [`ConfigMap ${file.name} (BIDDER_CONFIG) is not among the resources`] };
  const text = cm.data?.[file.key];
  if (typeof text !== 'string') return { ok: false, errors: [`ConfigMap ${file.name} has no key ${file.key}`] };
  const dir = mkdtempSync(join(tmpdir(), 'k8s-config-'));
  try {
    const copy = join(dir, 'config.json');
    writeFileSync(copy, text);
    const cpus = Math.max(1, Math.floor(quantity(c.resources?.limits?.cpu)) || 1);
    const r = loadConfig({ ...env, BIDDER_CONFIG: copy }, '/app', { cpus, affinity: cpus, quota: cpus, source: 'test: the container limit' });
    // loadConfig resolved the file's relative paths against the temporary copy: none may be relative.
    return r.ok ? { ok: true, config: r.config, file: JSON.parse(text) as Obj, literalEnv: literal } : { ok: false, errors: r.errors };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------
// The invariants

function manifestProblems(objs: Obj[]): string[] {
  const p: string[] = [];
  const deps = kinds(objs, 'Deployment').filter((d) => d.spec?.template?.spec?.containers?.some((c: Obj) => c.name === 'bidder'));
  if (deps.length !== 1) return [`Deployment: ${deps.length} with a bidder container, want 1`];
  const dep = deps[0];
  const name = dep.metadata.name as string;
  const podSpec = dep.spec.template.spec as Obj;
  const podLabels = (dep.spec.template.metadata?.labels ?? {}) as Record<string, string>;
  const c = (podSpec.containers as Obj[]).find((x) => x.name === 'bidder') as Obj;
  const others = workloads(objs).filter((w) => w.obj !== dep);

  const resolved = podConfig(objs);
  if (!resolved.ok) {
    p.push(...resolved.errors.map((e) => `config: ${e}`));
    return p;
  }
  const config = resolved.config;
  // A setting config.json gives and a variable written out in the image or the manifest
  // overrides with another value: the file would mislead whoever reads it. (A value from a
  // Secret, such as managed-redis's BIDDER_REDIS_URL, cannot live in the file.)
  for (const [name, value] of Object.entries(resolved.literalEnv)) {
    const spec = ENV_VARS[name];
    if (!spec) continue;
    const inFile = spec.path.split('.').reduce<unknown>((o, k) => (o as Obj | undefined)?.[k], resolved.file);
    if (inFile !== undefined && String(inFile) !== value) p.push(`config: config.json sets ${spec.path} ${JSON.stringify(inFile)}, but ${name}=${value} overrides it`);
  }

  // Guaranteed QoS on whole cores.
  for (const r of ['cpu', 'memory']) {
    const req = c.resources?.requests?.[r];
    const lim = c.resources?.limits?.[r];
    if (req === undefined || lim === undefined) p.push(`resources: ${r} needs requests and limits`);
    else if (quantity(req) !== quantity(lim)) p.push(`resources: ${r} requests and limits differ (${req} vs ${lim}): not Guaranteed QoS`);
  }
  const cpu = quantity(c.resources?.limits?.cpu);
  if (!(Number.isInteger(cpu) && cpu >= 1)) p.push(`resources: cpu ${c.resources?.limits?.cpu} is not a whole number of CPUs (static CPU manager, threads sized from the quota)`);

  // Ports: the container's, the config's and the image's agree.
  const ports = Object.fromEntries(((c.ports ?? []) as Obj[]).map((x) => [x.name, x.containerPort as number]));
  if (ports.bid !== config.server.port) p.push(`ports: bid is ${ports.bid}, config server.port is ${config.server.port}`);
  if (ports.ops !== config.server.opsPort) p.push(`ports: ops is ${ports.ops}, config server.opsPort is ${config.server.opsPort}`);
  for (const port of [ports.bid, ports.ops]) if (port !== undefined && !IMAGE.exposed.includes(port)) p.push(`ports: ${port} is not EXPOSEd by deploy/Dockerfile`);

  // Probes on the ops port.
  const probe = (what: string, pr: Obj | undefined, paths: string[]): void => {
    const g = pr?.httpGet;
    if (!g) return void p.push(`${what}: no httpGet probe`);
    if (!paths.includes(g.path)) p.push(`${what}: path ${g.path}, want ${paths.join(' or ')}`);
    if (g.port !== 'ops') p.push(`${what}: port ${g.port}, want the port named ops`);
  };
  probe('livenessProbe', c.livenessProbe, ['/healthz']);
  probe('readinessProbe', c.readinessProbe, ['/readyz']);
  probe('startupProbe', c.startupProbe, ['/healthz', '/readyz']);
  const rp = c.readinessProbe ?? {};
  if (!((rp.periodSeconds ?? 10) >= 1 && (rp.periodSeconds ?? 10) <= 5)) p.push(`readinessProbe: periodSeconds ${rp.periodSeconds ?? 10}, want 1-5 (leave the Service fast when draining)`);
  if ((rp.failureThreshold ?? 3) > 3) p.push(`readinessProbe: failureThreshold ${rp.failureThreshold}, want at most 3`);
  const sp = c.startupProbe ?? {};
  if ((sp.periodSeconds ?? 10) * (sp.failureThreshold ?? 3) < 60) p.push('startupProbe: under 60 s for the model warm-up');

  // Shutdown: preStop + drain fit in the grace period.
  const pre = c.lifecycle?.preStop;
  const preStop = pre?.sleep?.seconds ?? (Array.isArray(pre?.exec?.command) && pre.exec.command[0] === 'sleep' ? Number(pre.exec.command[1]) : 0);
  const grace = podSpec.terminationGracePeriodSeconds ?? 30;
  const needed = preStop + config.server.drainTimeoutMs / 1000 + 5;
  if (grace < needed) p.push(`terminationGracePeriodSeconds ${grace} < preStop ${preStop} s + drain ${config.server.drainTimeoutMs / 1000} s + 5 s margin`);
  if (!pre) p.push('lifecycle: no preStop pause (requests routed before the endpoint update propagates would be refused)');

  // Locked down.
  const psc = podSpec.securityContext ?? {};
  const csc = c.securityContext ?? {};
  if (psc.runAsNonRoot !== true && csc.runAsNonRoot !== true) p.push('securityContext: runAsNonRoot is not true');
  const uid = csc.runAsUser ?? psc.runAsUser;
  if (uid === 0) p.push('securityContext: runAsUser 0');
  if (uid !== undefined && uid !== IMAGE.uid) p.push(`securityContext: runAsUser ${uid}, the image's USER is ${IMAGE.uid}`);
  if (psc.fsGroup === undefined) p.push('securityContext: no fsGroup (the secret files and volumes would not be the bidder\'s group)');
  if ((csc.seccompProfile ?? psc.seccompProfile)?.type !== 'RuntimeDefault') p.push('securityContext: seccompProfile is not RuntimeDefault');
  if (csc.readOnlyRootFilesystem !== true) p.push('securityContext: readOnlyRootFilesystem is not true');
  if (csc.allowPrivilegeEscalation !== false) p.push('securityContext: allowPrivilegeEscalation is not false');
  if (csc.privileged === true) p.push('securityContext: privileged');
  if (!((csc.capabilities?.drop ?? []) as string[]).includes('ALL')) p.push('securityContext: capabilities do not drop ALL');

  // Volumes and mounts.
  const volumes = new Map(((podSpec.volumes ?? []) as Obj[]).map((v) => [v.name as string, v]));
  const mounts = (c.volumeMounts ?? []) as Obj[];
  for (const m of mounts) if (!volumes.has(m.name)) p.push(`volumeMounts: ${m.name} has no volume`);
  for (const v of volumes.keys()) if (!mounts.some((m) => m.name === v)) p.push(`volumes: ${v} is mounted nowhere`);

  // The config file: a ConfigMap mounted read-only.
  const env = Object.fromEntries(((c.env ?? []) as Obj[]).map((e) => [e.name as string, e]));
  for (const n of Object.keys(env)) if (n.startsWith('BIDDER_') && n !== 'BIDDER_CONFIG' && !(n in ENV_VARS)) p.push(`env: ${n} is unknown to the bidder (it refuses to start)`);
  const cfgFile = fileAt(c, podSpec, String(env.BIDDER_CONFIG?.value ?? ''));
  if (cfgFile && !cfgFile.readOnly) p.push('config: the ConfigMap mount is not readOnly');

  // Secrets: where the config reads them, from the Secret, readable by nobody else.
  for (const [setting, path, key] of [
    ['money.noticeKeyFile', config.money.noticeKeyFile, SECRET_KEYS.notice],
    ['admin.tokenFile', config.admin.tokenFile, SECRET_KEYS.admin],
  ] as const) {
    if (!path) {
      p.push(`secrets: ${setting} is empty`);
      continue;
    }
    const f = fileAt(c, podSpec, path);
    if (!f) p.push(`secrets: ${setting} ${path} is no file of a mounted volume`);
    else if (f.kind !== 'secret' || f.name !== SECRET_NAME || f.key !== key) p.push(`secrets: ${setting} ${path} comes from ${f.kind} ${f.name} key ${f.key}, want Secret ${SECRET_NAME} key ${key}`);
    else {
      if (!f.readOnly) p.push(`secrets: the mount of ${path} is not readOnly`);
      if (f.mode === undefined || (f.mode & 0o007) !== 0 || (f.mode & 0o222) !== 0) p.push(`secrets: ${path} has mode 0${(f.mode ?? 0).toString(8)}, want no write bits and nothing for others (0440 or 0400)`);
    }
  }

  // The one writable folder, and /tmp.
  const writable = (dir: string): boolean => mounts.some((m) => String(m.mountPath).replace(/\/$/, '') === dir && m.readOnly !== true &&
    (volumes.get(m.name)?.emptyDir !== undefined || volumes.get(m.name)?.persistentVolumeClaim !== undefined || volumes.get(m.name)?.ephemeral !== undefined));
  if (!writable(config.money.eventsDir)) p.push(`events: money.eventsDir ${config.money.eventsDir} is not a writable volume mount`);
  if (IMAGE.eventsDir && config.money.eventsDir !== IMAGE.eventsDir) p.push(`events: money.eventsDir ${config.money.eventsDir}, the image's VOLUME and BIDDER_EVENTS_DIR say ${IMAGE.eventsDir}`);
  if (csc.readOnlyRootFilesystem === true && !writable('/tmp')) p.push('tmp: /tmp is not a writable volume under a read-only root');

  // Rollout and placement.
  const hpas = kinds(objs, 'HorizontalPodAutoscaler').filter((h) => h.spec?.scaleTargetRef?.kind === 'Deployment' && h.spec?.scaleTargetRef?.name === name);
  if (hpas.length > 0 && dep.spec.replicas !== undefined) p.push(`Deployment: replicas ${dep.spec.replicas} while an HPA owns the count (every apply would reset a scaled-out fleet)`);
  if (!subset(dep.spec.selector?.matchLabels, podLabels)) p.push('Deployment: selector does not match its pod labels');
  if (String(dep.spec.strategy?.rollingUpdate?.maxUnavailable ?? '25%') !== '0') p.push('Deployment: rollingUpdate.maxUnavailable is not 0 (a rollout would drop capacity)');
  const tsc = (podSpec.topologySpreadConstraints ?? []) as Obj[];
  if (!tsc.some((x) => x.topologyKey === 'topology.kubernetes.io/zone' && subset(x.labelSelector?.matchLabels, podLabels))) p.push('topologySpreadConstraints: none across zones for the bidder pods');
  if (!/[:@]/.test(String(c.image)) || /:latest$/.test(String(c.image))) p.push(`image: ${c.image} has no pinned tag or digest`);
  for (const w of [{ obj: dep, spec: podSpec }, ...others]) {
    for (const x of (w.spec.containers ?? []) as Obj[]) {
      for (const a of [...((x.command ?? []) as unknown[]), ...((x.args ?? []) as unknown[])]) {
        if (typeof a !== 'string') p.push(`${w.obj.kind} ${w.obj.metadata.name}: container ${x.name} has a non-string argument ${JSON.stringify(a)} (quote yes/no/on/off)`);
      }
    }
  }

  // Service.
  const svcs = kinds(objs, 'Service').filter((s) => subset(s.spec?.selector, podLabels));
  if (svcs.length === 0) p.push('Service: none selects the bidder pods');
  for (const s of svcs) {
    for (const w of others) if (subset(s.spec.selector, w.podLabels)) p.push(`Service ${s.metadata.name}: also selects ${w.obj.kind} ${w.obj.metadata.name}'s pods`);
    const sp2 = (s.spec.ports ?? []) as Obj[];
    for (const want of ['bid', 'ops']) {
      const port = sp2.find((x) => x.name === want);
      if (!port) p.push(`Service ${s.metadata.name}: no port named ${want}`);
      else if (port.targetPort !== want && port.targetPort !== ports[want]) p.push(`Service ${s.metadata.name}: port ${want} targets ${port.targetPort}, not the container's ${want}`);
    }
  }

  // PodDisruptionBudget.
  const pdbs = kinds(objs, 'PodDisruptionBudget').filter((b) => subset(b.spec?.selector?.matchLabels, podLabels));
  if (pdbs.length !== 1) p.push(`PodDisruptionBudget: ${pdbs.length} select the bidder pods, want 1`);
  for (const b of pdbs) {
    for (const w of others) if (subset(b.spec.selector.matchLabels, w.podLabels)) p.push(`PodDisruptionBudget ${b.metadata.name}: also selects ${w.obj.metadata.name}'s pods`);
    if (b.spec.maxUnavailable === undefined && b.spec.minAvailable === undefined) p.push(`PodDisruptionBudget ${b.metadata.name}: neither maxUnavailable nor minAvailable`);
  }

  // HorizontalPodAutoscaler.
  const allHpas = kinds(objs, 'HorizontalPodAutoscaler');
  if (allHpas.length > 0 && hpas.length === 0) p.push(`HorizontalPodAutoscaler: none targets Deployment ${name} (${allHpas.map((h) => `${h.spec?.scaleTargetRef?.kind}/${h.spec?.scaleTargetRef?.name}`).join(', ')})`);
  for (const h of hpas) {
    const min = h.spec.minReplicas ?? 1;
    if (h.spec.scaleTargetRef.apiVersion !== 'apps/v1') p.push('HorizontalPodAutoscaler: scaleTargetRef.apiVersion is not apps/v1');
    if (min < 3) p.push(`HorizontalPodAutoscaler: minReplicas ${min}, want at least 3 (one per zone)`);
    if ((h.spec.maxReplicas ?? 0) < min) p.push('HorizontalPodAutoscaler: maxReplicas below minReplicas');
    for (const b of pdbs) {
      const mu = b.spec.maxUnavailable;
      const ma = b.spec.minAvailable;
      if (typeof mu === 'number' && min - mu < 2) p.push(`HorizontalPodAutoscaler: minReplicas ${min} minus the budget's maxUnavailable ${mu} leaves under 2 serving`);
      if (typeof ma === 'number' && min < ma + 1) p.push(`HorizontalPodAutoscaler: minReplicas ${min} leaves no disruption room over minAvailable ${ma}`);
    }
    if ((h.spec.behavior?.scaleDown?.stabilizationWindowSeconds ?? 300) < 300) p.push('HorizontalPodAutoscaler: scaleDown.stabilizationWindowSeconds under 300 s');
    if (((h.spec.metrics ?? []) as Obj[]).length === 0) p.push('HorizontalPodAutoscaler: no metrics');
  }

  // Redis: the one the config points at, or none in the cluster.
  const url = /^rediss?:\/\/(?:[^@/]*@)?([^:/]+)(?::(\d+))?/.exec(config.money.redisUrl);
  if (config.money.redisUrl !== '' && !url) p.push(`redis: cannot read money.redisUrl ${config.money.redisUrl}`);
  if (url && !url[1].includes('.')) {
    const svc = kinds(objs, 'Service').find((s) => s.metadata.name === url[1]);
    if (!svc) p.push(`redis: money.redisUrl names Service ${url[1]}, which is not among the resources`);
    else {
      if (!(svc.spec.ports as Obj[]).some((x) => x.port === Number(url[2] ?? 6379))) p.push(`redis: Service ${url[1]} has no port ${url[2] ?? 6379}`);
      const redis = others.find((w) => subset(svc.spec.selector, w.podLabels));
      if (!redis) p.push(`redis: Service ${url[1]} selects no workload`);
      else {
        const rc = (redis.spec.containers as Obj[])[0];
        const args = ((rc.args ?? []) as unknown[]).map(String).join(' ');
        if (!/^[\w./-]+:\d[\w.-]*(@sha256:[0-9a-f]{64})?$/.test(String(rc.image)) || /:latest/.test(String(rc.image))) p.push(`redis: image ${rc.image} is not pinned to a release`);
        if (!/--appendonly yes/.test(args)) p.push('redis: no --appendonly yes (an empty restart re-initialises the budgets)');
        if (!/--maxmemory-policy noeviction/.test(args)) p.push('redis: maxmemory-policy is not noeviction');
        if (redis.spec.securityContext?.runAsNonRoot !== true) p.push('redis: runAsNonRoot is not true');
        if (!rc.readinessProbe) p.push('redis: no readinessProbe');
        for (const r of ['cpu', 'memory']) if (quantity(rc.resources?.requests?.[r]) !== quantity(rc.resources?.limits?.[r])) p.push(`redis: ${r} requests and limits differ`);
      }
    }
  }
  return p;
}

// ---------------------------------------------------------------------------------------

t.test('every YAML file under deploy/k8s parses, and each object has apiVersion, kind and name', async (t) => {
  const files = yamlFiles(K8S);
  t.ok(files.length >= 10, `${files.length} files`);
  for (const f of files) {
    const docs = loadYaml(f);
    t.ok(docs.length > 0, `${relative(K8S, f)}: not empty`);
    if (/-values\.yaml$/.test(f)) continue; // Helm values, not an object
    for (const d of docs) {
      t.ok(typeof d.apiVersion === 'string' && typeof d.kind === 'string', `${relative(K8S, f)}: ${d.kind}`);
      if (d.kind !== 'Kustomization') t.ok(d.metadata?.name, `${relative(K8S, f)}: ${d.kind} has a name`);
    }
  }
});

t.test('the base kustomization resolves and its config.json is a valid bidder configuration', async (t) => {
  const k = kustomization(BASE);
  for (const r of k.resources as string[]) t.ok(existsSync(join(BASE, r)), `resource ${r} exists`);
  t.notOk((k.resources as string[]).some((r) => /secret/i.test(r)), 'no Secret is part of the base');
  const gen = (k.configMapGenerator as Obj[]).find((g) => g.name === 'rtb-bidder-config');
  t.ok(gen, 'configMapGenerator rtb-bidder-config');
  for (const f of gen?.files ?? []) t.ok(existsSync(join(BASE, f)), `generator file ${f} exists`);
  t.match(k.labels?.[0]?.pairs, { 'app.kubernetes.io/name': 'rtb-bidder' }, 'common label app.kubernetes.io/name');
  t.equal(k.labels?.[0]?.includeSelectors, false, 'labels stay off the (immutable) selectors');

  const r = podConfig(rawBase());
  t.ok(r.ok, `loadConfig accepts it: ${r.ok ? '' : r.errors.join('; ')}`);
  if (!r.ok) return;
  t.equal(r.config.money.noticeKeyFile, '/etc/rtb-bidder/secrets/notice-key');
  t.equal(r.config.admin.tokenFile, '/etc/rtb-bidder/secrets/admin-token');
  t.equal(r.config.money.redisUrl, 'redis://rtb-bidder-redis:6379');
  t.equal(r.config.money.eventsDir, IMAGE.eventsDir);
  t.match(r.config.money.noticeBaseUrl, /^https:\/\//, 'notices over HTTPS');
  t.equal(r.config.pool.threads, 2, 'pool sized from the container\'s 2 CPUs');
});

t.test('the base holds every invariant', async (t) => {
  t.same(manifestProblems(rawBase()), []);
});

t.test('overlays build on ../../base and patch what exists', async (t) => {
  const base = rawBase();
  const overlays = readdirSync(OVERLAYS).filter((d) => existsSync(join(OVERLAYS, d, 'kustomization.yaml')));
  t.same(overlays.sort(), ['managed-redis', 'rps-autoscaling']);
  for (const o of overlays) {
    const dir = join(OVERLAYS, o);
    const k = kustomization(dir);
    t.ok((k.resources as string[]).includes('../../base'), `${o}: resources include ../../base`);
    for (const patch of (k.patches ?? []) as Obj[]) {
      if (patch.path) t.ok(existsSync(join(dir, patch.path)), `${o}: patch file ${patch.path} exists`);
      const docs = patch.path ? loadYaml(join(dir, patch.path)) : parseYaml(patch.patch as string, `${o}: inline patch`);
      const targets = patch.target ? [{ kind: patch.target.kind, name: patch.target.name }] : docs.map((d) => ({ kind: d.kind, name: d.metadata?.name }));
      for (const target of targets) {
        t.ok(base.some((b) => b.kind === target.kind && b.metadata?.name === target.name), `${o}: patch target ${target.kind}/${target.name} is in the base`);
      }
    }
  }
});

t.test('rps-autoscaling: the HPA metric is what the adapter rule serves, from a series the bidder exports', async (t) => {
  const dir = join(OVERLAYS, 'rps-autoscaling');
  const [hpa] = loadYaml(join(dir, 'hpa-rps.yaml'));
  const [values] = loadYaml(join(dir, 'prometheus-adapter-values.yaml'));
  const podsMetrics = (hpa.spec.metrics as Obj[]).filter((m) => m.type === 'Pods').map((m) => m.pods.metric.name as string);
  t.same(podsMetrics, ['bidder_requests_per_second']);
  const rule = (values.rules.custom as Obj[]).find((r) => r.name?.as === 'bidder_requests_per_second');
  t.ok(rule, 'an adapter rule serves bidder_requests_per_second');
  if (!rule) return;
  const series = /^(\w+)\{/.exec(rule.seriesQuery as string)?.[1];
  t.equal(series, M.requests, 'the rule reads bidder_requests_total, which the bidder exports');
  t.ok(new RegExp(rule.name.matches as string).test(M.requests), 'name.matches matches the series');
  t.match(rule.metricsQuery, /rate\(<<\.Series>>\{<<\.LabelMatchers>>\}\[1m\]\)/, 'a 1-minute rate');
  t.same(Object.keys(rule.resources.overrides).sort(), ['namespace', 'pod'], 'per pod, per namespace');
});

t.test('managed-redis: removes every Redis object of the base, and takes BIDDER_REDIS_URL from a Secret', async (t) => {
  const dir = join(OVERLAYS, 'managed-redis');
  const k = kustomization(dir);
  const deleted = ((k.patches ?? []) as Obj[])
    .filter((x) => typeof x.patch === 'string' && x.patch.includes('$patch: delete'))
    .flatMap((x) => parseYaml(x.patch as string, 'managed-redis: inline patch'))
    .map((d) => `${d.kind}/${d.metadata.name}`)
    .sort();
  const redisInBase = rawBase().filter((o) => o.metadata?.labels?.['app.kubernetes.io/component'] === 'redis').map((o) => `${o.kind}/${o.metadata.name}`).sort();
  t.same(deleted, redisInBase);
  const [patch] = loadYaml(join(dir, 'redis-url.yaml'));
  const env = (patch.spec.template.spec.containers[0].env as Obj[]).find((e) => e.name === 'BIDDER_REDIS_URL');
  t.match(env?.valueFrom?.secretKeyRef, { name: 'rtb-bidder-redis', key: 'url' });
});

t.test('the Secret example is in no kustomization and has the keys the Deployment mounts', async (t) => {
  const [secret] = loadYaml(join(K8S, 'secret.example.yaml'));
  t.equal(secret.metadata.name, SECRET_NAME);
  t.same(Object.keys(secret.stringData).sort(), Object.values(SECRET_KEYS).sort());
  for (const dir of [BASE, ...readdirSync(OVERLAYS).map((o) => join(OVERLAYS, o))]) {
    t.notOk(JSON.stringify(kustomization(dir)).includes('secret.example'), `${relative(K8S, dir)} does not include it`);
  }
  t.match(readFileSync(join(K8S, 'secret.example.yaml'), 'utf8'), /kubectl -n \S+ create secret generic rtb-bidder-secrets\s*\\\s*\n#?\s*--from-file=notice-key=\S+ --from-file=admin-token=\S+/);
});

t.test('deploy/prometheus scrapes the bidder pods on their ops port, and nothing of Redis', { skip: existsSync(join(REPO, 'deploy/prometheus/prometheus.yml')) ? false : 'no deploy/prometheus/prometheus.yml' }, async (t) => {
  const [prom] = loadYaml(join(REPO, 'deploy/prometheus/prometheus.yml'));
  const job = (prom.scrape_configs as Obj[]).find((j) => j.job_name === 'rtb-bidder');
  t.ok(job, 'a job rtb-bidder');
  if (!job) return;
  // What pod discovery would offer for each declared container port of each workload, and
  // whether the job's keep/drop rules on pod labels and port names let it through.
  const scraped = (w: Workload, port: string): boolean => ((job.relabel_configs ?? []) as Obj[]).every((r) => {
    const source = (r.source_labels ?? []) as string[];
    if (source.length !== 1 || !['keep', 'drop'].includes(r.action)) return true;
    let value: string | undefined;
    const label = /^__meta_kubernetes_pod_label_(.+)$/.exec(source[0]);
    if (label) value = Object.entries(w.podLabels).find(([k]) => k.replace(/[^a-zA-Z0-9_]/g, '_') === label[1])?.[1] ?? '';
    else if (source[0] === '__meta_kubernetes_pod_container_port_name') value = port;
    else return true;
    const hit = new RegExp(`^(?:${r.regex ?? '(.*)'})$`).test(value);
    return r.action === 'keep' ? hit : !hit;
  });
  for (const w of workloads(rawBase())) {
    const ports = ((w.spec.containers ?? []) as Obj[]).flatMap((c) => ((c.ports ?? []) as Obj[]).map((p) => String(p.name)));
    const kept = ports.filter((port) => scraped(w, port));
    if (w.obj.kind === 'Deployment') t.same(kept, ['ops'], 'the bidder: its ops port only');
    else t.same(kept, [], `${w.obj.kind} ${w.obj.metadata.name}: not scraped`);
  }
});

/** kubectl kustomize or kustomize build, whichever exists; null when neither. */
function kustomizeCommand(): string[] | null {
  if (spawnSync('kubectl', ['kustomize', '--help'], { encoding: 'utf8' }).status === 0) return ['kubectl', 'kustomize'];
  if (spawnSync('kustomize', ['version'], { encoding: 'utf8' }).status === 0) return ['kustomize', 'build'];
  return null;
}
const KUSTOMIZE = kustomizeCommand();

t.test('kustomize renders the base and every overlay, and each rendering holds every invariant', { skip: KUSTOMIZE ? false : 'neither kubectl nor kustomize on PATH' }, async (t) => {
  const render = (dir: string): Obj[] => {
    const r = spawnSync(KUSTOMIZE![0], [...KUSTOMIZE!.slice(1), dir], { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`${KUSTOMIZE!.join(' ')} ${relative(REPO, dir)}: ${r.stderr}`);
    return parseYaml(r.stdout, `rendered ${relative(REPO, dir)}`);
  };
  const base = render(BASE);
  t.same(manifestProblems(base), [], 'base');
  const cm = kinds(base, 'ConfigMap')[0];
  t.match(cm.metadata.name, /^rtb-bidder-config-[a-z0-9]{10}$/, 'the generated ConfigMap has a content hash (a change rolls the pods)');
  const dep = kinds(base, 'Deployment')[0];
  t.equal(dep.spec.template.spec.volumes.find((v: Obj) => v.name === 'config').projected.sources[0].configMap.name, cm.metadata.name, 'the Deployment mounts the generated name');
  t.equal(dep.metadata.labels['app.kubernetes.io/name'], 'rtb-bidder');

  const rps = render(join(OVERLAYS, 'rps-autoscaling'));
  t.same(manifestProblems(rps), [], 'rps-autoscaling');
  t.same(kinds(rps, 'HorizontalPodAutoscaler')[0].spec.metrics.map((m: Obj) => m.type), ['Pods', 'Resource']);

  const managed = render(join(OVERLAYS, 'managed-redis'));
  t.same(manifestProblems(managed), [], 'managed-redis');
  t.same(managed.filter((o) => o.metadata?.labels?.['app.kubernetes.io/component'] === 'redis'), [], 'no in-cluster Redis left');
  const menv = kinds(managed, 'Deployment')[0].spec.template.spec.containers[0].env.map((e: Obj) => e.name);
  t.ok(menv.includes('BIDDER_REDIS_URL') && menv.includes('BIDDER_CONFIG'), 'the patch added BIDDER_REDIS_URL and kept the rest');
});

// ---------------------------------------------------------------------------------------
// Each invariant can fail.

type Mutation = { rule: string; mutate: (objs: Obj[]) => void; expect: RegExp };
const dep = (objs: Obj[]): Obj => kinds(objs, 'Deployment')[0];
const ctr = (objs: Obj[]): Obj => dep(objs).spec.template.spec.containers[0];
const vol = (objs: Obj[], name: string): Obj => dep(objs).spec.template.spec.volumes.find((v: Obj) => v.name === name);
const mnt = (objs: Obj[], name: string): Obj => ctr(objs).volumeMounts.find((m: Obj) => m.name === name);
const setConfig = (objs: Obj[], edit: (c: Obj) => void): void => {
  const cm = kinds(objs, 'ConfigMap')[0];
  const c = JSON.parse(cm.data['config.json']) as Obj;
  edit(c);
  cm.data['config.json'] = JSON.stringify(c);
};

const MUTATIONS: Mutation[] = [
  { rule: 'requests != limits', mutate: (o) => { ctr(o).resources.requests.cpu = '1'; }, expect: /cpu requests and limits differ/ },
  { rule: 'memory requests != limits', mutate: (o) => { ctr(o).resources.requests.memory = '1Gi'; }, expect: /memory requests and limits differ/ },
  { rule: 'fractional cpu', mutate: (o) => { ctr(o).resources.requests.cpu = '1500m'; ctr(o).resources.limits.cpu = '1500m'; }, expect: /not a whole number/ },
  { rule: 'liveness on readyz', mutate: (o) => { ctr(o).livenessProbe.httpGet.path = '/readyz'; }, expect: /livenessProbe: path \/readyz/ },
  { rule: 'readiness on the bid port', mutate: (o) => { ctr(o).readinessProbe.httpGet.port = 8080; }, expect: /readinessProbe: port 8080/ },
  { rule: 'slow readiness', mutate: (o) => { ctr(o).readinessProbe.periodSeconds = 30; }, expect: /readinessProbe: periodSeconds 30/ },
  { rule: 'short startup', mutate: (o) => { ctr(o).startupProbe.failureThreshold = 5; }, expect: /startupProbe: under 60 s/ },
  { rule: 'ops port renumbered', mutate: (o) => { ctr(o).ports[1].containerPort = 9191; }, expect: /ports: ops is 9191/ },
  { rule: 'short grace', mutate: (o) => { dep(o).spec.template.spec.terminationGracePeriodSeconds = 15; }, expect: /terminationGracePeriodSeconds 15 </ },
  { rule: 'longer drain in config', mutate: (o) => setConfig(o, (c) => { c.server.drainTimeoutMs = 25_000; }), expect: /terminationGracePeriodSeconds 30 < preStop 10 s \+ drain 25 s/ },
  { rule: 'no preStop', mutate: (o) => { delete ctr(o).lifecycle; }, expect: /no preStop/ },
  { rule: 'root allowed', mutate: (o) => { dep(o).spec.template.spec.securityContext.runAsNonRoot = false; delete ctr(o).securityContext.runAsNonRoot; }, expect: /runAsNonRoot is not true/ },
  { rule: 'uid 0', mutate: (o) => { dep(o).spec.template.spec.securityContext.runAsUser = 0; }, expect: /runAsUser 0/ },
  { rule: 'writable root', mutate: (o) => { ctr(o).securityContext.readOnlyRootFilesystem = false; }, expect: /readOnlyRootFilesystem is not true/ },
  { rule: 'escalation', mutate: (o) => { delete ctr(o).securityContext.allowPrivilegeEscalation; }, expect: /allowPrivilegeEscalation/ },
  { rule: 'capabilities', mutate: (o) => { ctr(o).securityContext.capabilities.drop = ['NET_RAW']; }, expect: /drop ALL/ },
  { rule: 'mount without volume', mutate: (o) => { vol(o, 'tmp').name = 'scratch'; }, expect: /volumeMounts: tmp has no volume/ },
  { rule: 'secret renamed', mutate: (o) => { vol(o, 'config').projected.sources[1].secret.name = 'other'; }, expect: /want Secret rtb-bidder-secrets/ },
  { rule: 'secret path moved', mutate: (o) => { vol(o, 'config').projected.sources[1].secret.items[0].path = 'keys/notice-key'; }, expect: /money\.noticeKeyFile \/etc\/rtb-bidder\/secrets\/notice-key is no file/ },
  { rule: 'secret keys swapped', mutate: (o) => { const items = vol(o, 'config').projected.sources[1].secret.items; [items[0].key, items[1].key] = [items[1].key, items[0].key]; }, expect: /key admin-token, want Secret rtb-bidder-secrets key notice-key/ },
  { rule: 'world-readable secrets', mutate: (o) => { vol(o, 'config').projected.defaultMode = 0o644; }, expect: /mode 0644/ },
  { rule: 'secret token path in config', mutate: (o) => setConfig(o, (c) => { c.admin.tokenFile = '/etc/rtb-bidder/token'; }), expect: /admin\.tokenFile \/etc\/rtb-bidder\/token is no file/ },
  { rule: 'read-only events', mutate: (o) => { mnt(o, 'events').readOnly = true; }, expect: /money\.eventsDir \/var\/lib\/rtb-bidder\/events is not a writable volume/ },
  { rule: 'events elsewhere in config', mutate: (o) => setConfig(o, (c) => { c.money.eventsDir = '/data/events'; }), expect: /config\.json sets money\.eventsDir "\/data\/events", but BIDDER_EVENTS_DIR=\/var\/lib\/rtb-bidder\/events overrides it/ },
  { rule: 'no /tmp', mutate: (o) => { ctr(o).volumeMounts = ctr(o).volumeMounts.filter((m: Obj) => m.name !== 'tmp'); }, expect: /\/tmp is not a writable volume/ },
  { rule: 'config from elsewhere', mutate: (o) => { vol(o, 'config').projected.sources[0].configMap.name = 'rtb-bidder-settings'; }, expect: /ConfigMap rtb-bidder-settings \(BIDDER_CONFIG\) is not among/ },
  { rule: 'invalid config', mutate: (o) => setConfig(o, (c) => { c.server.threads = 4; }), expect: /config: server\.threads: unknown setting/ },
  { rule: 'unknown variable', mutate: (o) => { ctr(o).env.push({ name: 'BIDDER_THREADS', value: '4' }); }, expect: /unknown BIDDER_\* variable|BIDDER_THREADS/ },
  { rule: 'replicas with an HPA', mutate: (o) => { dep(o).spec.replicas = 3; }, expect: /replicas 3 while an HPA owns the count/ },
  { rule: 'rollout drops capacity', mutate: (o) => { dep(o).spec.strategy.rollingUpdate.maxUnavailable = 1; }, expect: /maxUnavailable is not 0/ },
  { rule: 'no zone spread', mutate: (o) => { dep(o).spec.template.spec.topologySpreadConstraints = []; }, expect: /none across zones/ },
  { rule: 'latest image', mutate: (o) => { ctr(o).image = 'rtb-bidder:latest'; }, expect: /no pinned tag/ },
  { rule: 'Service selects Redis', mutate: (o) => { kinds(o, 'Service').find((s) => s.metadata.name === 'rtb-bidder')!.spec.selector = { 'app.kubernetes.io/name': 'rtb-bidder' }; }, expect: /Service rtb-bidder: also selects StatefulSet rtb-bidder-redis/ },
  { rule: 'Service misses the pods', mutate: (o) => { kinds(o, 'Service').find((s) => s.metadata.name === 'rtb-bidder')!.spec.selector['app.kubernetes.io/component'] = 'api'; }, expect: /Service: none selects the bidder pods/ },
  { rule: 'Service without ops', mutate: (o) => { const s = kinds(o, 'Service').find((x) => x.metadata.name === 'rtb-bidder')!; s.spec.ports = s.spec.ports.filter((x: Obj) => x.name !== 'ops'); }, expect: /no port named ops/ },
  { rule: 'PDB selects nothing', mutate: (o) => { kinds(o, 'PodDisruptionBudget')[0].spec.selector.matchLabels = { app: 'bidder' }; }, expect: /PodDisruptionBudget: 0 select/ },
  { rule: 'HPA on another target', mutate: (o) => { kinds(o, 'HorizontalPodAutoscaler')[0].spec.scaleTargetRef.name = 'bidder'; }, expect: /HorizontalPodAutoscaler: none targets Deployment rtb-bidder/ },
  { rule: 'HPA too small for the budget', mutate: (o) => { kinds(o, 'HorizontalPodAutoscaler')[0].spec.minReplicas = 2; }, expect: /minReplicas 2/ },
  { rule: 'HPA scales down fast', mutate: (o) => { kinds(o, 'HorizontalPodAutoscaler')[0].spec.behavior.scaleDown.stabilizationWindowSeconds = 60; }, expect: /stabilizationWindowSeconds under 300/ },
  { rule: 'redis without persistence', mutate: (o) => { const s = kinds(o, 'StatefulSet')[0].spec.template.spec.containers[0]; s.args = s.args.filter((a: string) => a !== '--appendonly' && a !== 'yes'); }, expect: /no --appendonly yes/ },
  { rule: 'redis yes unquoted', mutate: (o) => { const s = kinds(o, 'StatefulSet')[0].spec.template.spec.containers[0]; s.args[s.args.indexOf('yes')] = true; }, expect: /non-string argument true/ },
  { rule: 'redis latest', mutate: (o) => { kinds(o, 'StatefulSet')[0].spec.template.spec.containers[0].image = 'redis:latest'; }, expect: /redis: image redis:latest is not pinned/ },
  { rule: 'redis gone, url left', mutate: (o) => { o.splice(o.findIndex((x) => x.kind === 'Service' && x.metadata.name === 'rtb-bidder-redis'), 1); }, expect: /names Service rtb-bidder-redis, which is not among/ },
];

t.test('every invariant fails on a manifest that breaks it', async (t) => {
  const good = rawBase();
  t.same(manifestProblems(good), [], 'the base as it is');
  for (const m of MUTATIONS) {
    const objs = structuredClone(good);
    m.mutate(objs);
    t.not(JSON.stringify(objs), JSON.stringify(good), `${m.rule}: the mutation changes the manifests`);
    const problems = manifestProblems(objs);
    t.ok(problems.some((x) => m.expect.test(x)), `${m.rule}: ${m.expect} in ${JSON.stringify(problems)}`);
  }
});
