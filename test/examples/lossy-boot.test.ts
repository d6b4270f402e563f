import test from "ava";
import { IMAGE, PAGE, bootUnderLoss } from "../../examples/lossy-boot.ts";

for (const seed of [1, 2, 3, 4, 5]) {
  test(`examples/lossy-boot.ts, seed ${seed}: under 10 % loss the lease, a 64 KiB TFTP read and an HTTP page still complete`, (t) => {
    const r = bootUnderLoss(seed);
    t.true(r.leased);
    t.true(r.leasedAt < 60_000, `lease after ${r.leasedAt} ms of virtual time`);
    t.is(r.lease?.leaseTime, 3600);
    t.is(r.tftp.error, undefined);
    t.deepEqual(r.tftp.data, IMAGE);
    t.is(r.http.status, 200);
    t.is(r.http.text, PAGE);
    t.true(r.faults!.drop > 0, "frames were lost");
    t.true(Math.abs(r.faults!.drop / r.faults!.frames - 0.1) < 0.06, `${r.faults!.drop} of ${r.faults!.frames} dropped`);
  });
}

test("examples/lossy-boot.ts: a seed repeats its run exactly, another seed differs, no loss drops nothing", (t) => {
  t.deepEqual(bootUnderLoss(7).trace, bootUnderLoss(7).trace);
  t.notDeepEqual(bootUnderLoss(7).trace, bootUnderLoss(8).trace);
  t.is(bootUnderLoss(7, 0).faults!.drop, 0);
});
