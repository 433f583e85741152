export type { CrashOptions, DiskOp, FaultyDisk, FaultyDiskOptions } from "./faulty-disk";
export { createFaultyDisk } from "./faulty-disk";
export { createMemoryDisk } from "./memory-disk";
export { Prng } from "./prng";
