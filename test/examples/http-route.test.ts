import test from "ava";
import { decodeCapture } from "../../host-sim/pcap.ts";
import { readThermostat } from "../../examples/http-route.ts";

test("examples/http-route.ts: the application's routes answer a client on the virtual LAN, after a DHCP lease", (t) => {
  const r = readThermostat();
  t.true(r.leased);
  t.is(r.raised.status, 200);
  t.is(r.raised.text, "setpoint 21\n");
  t.is(r.reading.status, 200);
  t.regex(r.reading.head, /\r\nContent-Type: application\/json\r\n/);
  t.deepEqual(JSON.parse(r.reading.text), { celsius: 21.5, setpoint: 21 });
  t.true(r.trace.some((l) => / -- device: http on port 80, root \/www, no PUT, routes \/status, \/temperature, \/setpoint\/up$/.test(l)));
  t.true(r.trace.some((l) => / -- device: address 10\.0\.0\.100\/24 gateway 10\.0\.0\.1 lease 3600 s$/.test(l)));
  // The pcap holds exactly the frames the trace shows, and the route's answer is in it.
  const capture = decodeCapture(r.pcap);
  if (!capture.ok) return t.fail(capture.reason);
  t.is(capture.value.packets.length, r.trace.filter((l) => /^ *[\d.]+ [<>] /.test(l)).length);
  t.true(capture.value.packets.some((p) => new TextDecoder().decode(p.data).includes('{"celsius":21.5,"setpoint":21}')));
  t.is(r.stats.drops["tcp-bad-checksum"], undefined);
});
