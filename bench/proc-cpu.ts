// CPU time from /proc (Linux): what a process, or one of its threads, has used so far, user + system.
import { execSync } from "node:child_process";
import { readFileSync } from "node:fs";

let tickMicros: number | null = null;

/** Microseconds in one clock tick of stat(5)'s utime and stime (USER_HZ, asked of getconf once: 100 a second on Linux). */
function microsPerTick(): number {
  tickMicros ??= 1e6 / Number(execSync("getconf CLK_TCK", { encoding: "utf8" }).trim() || "100");
  return tickMicros;
}

/** CPU time (µs, user + system) a /proc stat file reports. */
function statCpuMicros(file: string): number {
  const stat = readFileSync(file, "utf8");
  // Fields after the command name (in parentheses, which may hold spaces): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * microsPerTick();
}

/** CPU time (µs) process `pid` has used so far, all its threads. */
export const processCpuMicros = (pid: number): number => statCpuMicros(`/proc/${pid}/stat`);

/** CPU time (µs) the main thread of process `pid` has used so far. */
export const mainThreadCpuMicros = (pid: number): number => statCpuMicros(`/proc/${pid}/task/${pid}/stat`);
