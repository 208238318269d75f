// The machine a run was measured on, written beside the figures.
import { cpus, freemem, loadavg, release, totalmem, type as osType, hostname } from 'node:os';

/** What the figures were measured on. */
export interface Machine {
  cpuModel: string;
  cores: number;
  /** MHz as the OS reports it (0 on some VMs). */
  mhz: number;
  memGiB: number;
  freeGiB: number;
  os: string;
  node: string;
  v8: string;
  host: string;
  /** 1-, 5- and 15-minute load averages when the run started: other work on the machine skews the figures. */
  loadAvg: number[];
}

/** Describes this machine now. */
export function describeMachine(): Machine {
  const c = cpus();
  return {
    cpuModel: c[0]?.model.trim() ?? 'unknown',
    cores: c.length,
    mhz: c[0]?.speed ?? 0,
    memGiB: +(totalmem() / 2 ** 30).toFixed(1),
    freeGiB: +(freemem() / 2 ** 30).toFixed(1),
    os: `${osType()} ${release()}`,
    node: process.version,
    v8: process.versions.v8,
    host: hostname(),
    loadAvg: loadavg().map((x) => +x.toFixed(2)),
  };
}

/** One line for the table's header. */
export function machineLine(m: Machine): string {
  return `${m.cores} x ${m.cpuModel}${m.mhz > 0 ? ` @ ${m.mhz} MHz` : ''}, ${m.memGiB} GiB, ${m.os}, Node ${m.node} (V8 ${m.v8}), load ${m.loadAvg.join(' ')}`;
}
