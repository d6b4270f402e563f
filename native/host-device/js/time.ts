// Moddable's `time` module on the host program: only ticks, the millisecond counter.

/// <reference path="../../../modules/device/xs-native.d.ts" />

function ticks(this: unknown): number {
  return native<() => number>("host_ticks").call(this);
}

export default {
  get ticks(): number {
    return ticks();
  },
};
