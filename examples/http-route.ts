// Example: a firmware of your own, on the stack's firmware core, with an HTTP route of the
// application's, fetched by a client on the virtual LAN. Run it: npx tsx examples/http-route.ts
// (test/examples/http-route.test.ts checks what it returns).

import { Scenario, startFirmware, type FirmwarePorts } from "mcu-netstack/host-sim";

/** Your firmware: what your ESP32 app would call with the ports its board gives it. */
export function thermostat(ports: FirmwarePorts) {
  let setpoint = 20;
  const fw = startFirmware(
    ports,
    { hostname: "thermostat", http: { root: "www", put: false } },
    {
      routes: [
        {
          method: "GET",
          path: "/temperature",
          handler: (_req, res) => {
            res.setHeader("Content-Type", "application/json");
            res.end(JSON.stringify({ celsius: 21.5, setpoint }));
          },
        },
        {
          method: "POST",
          path: "/setpoint/up",
          handler: (_req, res) => {
            setpoint++;
            res.end(`setpoint ${setpoint}\n`);
          },
        },
      ],
    },
  );
  if (!fw.ok) throw new Error(fw.reason);
  return fw.value;
}

/** Boots the thermostat on a virtual LAN, lets a client raise the setpoint and read the temperature. */
export function readThermostat(seed = 1) {
  const sim = new Scenario({ seed });
  const device = sim.firmware(thermostat);
  const leased = sim.runUntil(() => device.address() !== undefined, 30_000);
  const client = sim.client();
  const raised = client.http(device.address()!, "/setpoint/up", { method: "POST", body: "" });
  const reading = client.http(device.address()!, "/temperature");
  return { leased, raised, reading, ...sim.result() };
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const r = readThermostat();
  for (const line of r.trace) console.log(line);
  console.log(`\n${r.reading.head}\n\n${r.reading.text}`);
}
