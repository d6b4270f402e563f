// The globals the host program (native/host-device/main.c) defines before it runs the script.

declare function __native(name: string): (...args: never[]) => unknown;
/** The names of every host function __native knows. */
declare function __hostNames(): string[];
/** The part of the script that runs on the device's machine, after the preloaded part (main.c). */
declare var __main: (() => void) | undefined;
declare function __hostObject(destructor: string): object;
declare function __timerSet(id: number, ms: number): void;
declare function __timerClear(id: number): void;
declare function __exit(code: number): void;
declare const __configText: string;
