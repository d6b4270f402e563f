// The heap of the bare machine (XS's built-ins and the prelude), taken before any stack module loads.

/// <reference path="../../../modules/device/xs-native.d.ts" />

export const baseline = native<() => [number, number, number]>("host_heap")();
