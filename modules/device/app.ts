// The firmware: brings up the board's interface (Wi-Fi or Ethernet, network.ts), takes it over
// with the lwIP glue, runs our DHCP client and starts the configured servers. Everything it
// is told comes from mc/config: the manifest's "config" section and mcconfig's command line.
// It logs through trace(), which mcconfig -d shows on the serial console (and xsbug).

import config from "mc/config";
import { File, Iterator, Directory, System } from "file";
import { LwipLink } from "./link.ts";
import { TickClock } from "./clock.ts";
import { hardwareRandom } from "./random.ts";
import { FileStorage, type FileModule } from "./storage.ts";
import { bringUp, IFKEY } from "./network.ts";
import { createStack, type Stack } from "../stack/stack.ts";
import { DhcpClient, type DhcpLease } from "../services/dhcp-client.ts";
import { TftpServer } from "../services/tftp-server.ts";
import { HttpServer } from "../services/http-server.ts";
import { FtpServer, type FtpUser } from "../services/ftp-server.ts";
import { ipToString, macToString } from "../wire/address.ts";

/** The app's part of mc/config (manifests/app/manifest_app.json holds the defaults). */
interface NetstackConfig {
  hostname: string;
  /** Roots are directories under config.file.root ("" for all of it), created at boot when missing. */
  tftp: { root: string; write: "none" | "create" | "overwrite" };
  ftp: { root: string; users: FtpUser[] };
  http: { root: string; put: boolean };
}

const settings = config.netstack as NetstackConfig;
const files: FileModule = { File, Iterator, Directory, System };

function log(text: string): void {
  trace(`netstack: ${text}\n`);
}

/** A service's storage: a directory of its own under the file system's root, or all of it. */
function storageAt(dir: string): FileStorage {
  const base = new FileStorage(files, config.file.root);
  if (!dir) return base;
  const made = base.mkdir(dir);
  if (!made.ok && made.reason !== "storage-exists") log(`cannot create /${dir}: ${made.reason}`);
  return new FileStorage(files, `${config.file.root.replace(/\/$/, "")}/${dir}`);
}

function describe(lease: DhcpLease): string {
  const prefix = Math.clz32(~lease.mask);
  return `${ipToString(lease.ip)}/${prefix} gateway ${ipToString(lease.gateway)} lease ${lease.leaseTime} s`;
}

function startServers(stack: Stack): void {
  const tftp = new TftpServer(stack, storageAt(settings.tftp.root), {
    allowWrite: settings.tftp.write !== "none",
    allowOverwrite: settings.tftp.write === "overwrite",
    onTransfer: (r) => log(`tftp ${r.op} ${r.file} ${r.bytes} bytes${r.error ? ` failed: ${r.error}` : ""}`),
  });
  if (tftp.listen()) log(`tftp on port ${tftp.options.port}, root /${settings.tftp.root}, writes: ${settings.tftp.write}`);

  const ftp = new FtpServer(stack, storageAt(settings.ftp.root), {
    users: settings.ftp.users,
    onTransfer: (r) => log(`ftp ${r.user} ${r.command} ${r.path} ${r.bytes} bytes${r.error ? ` failed: ${r.error}` : ""}`),
  });
  if (ftp.listen()) log(`ftp on port ${ftp.options.port}, root /${settings.ftp.root}, users: ${settings.ftp.users.map((u) => u.name).join(", ")}`);

  const http = new HttpServer(stack, storageAt(settings.http.root), { allowPut: settings.http.put });
  http.route("GET", "/link", (_req, res) => {
    res.setHeader("Content-Type", "application/json");
    res.end(JSON.stringify(link?.counters));
  });
  if (http.listen()) log(`http on port ${http.options.port}, root /${settings.http.root}, routes ${http.options.statusPath} and /link`);
}

let stack: Stack | undefined;
let link: LwipLink | undefined;

function linkUp(): void {
  if (stack) return log("link up again");
  link = new LwipLink(IFKEY);
  const s = createStack(link, new TickClock(), hardwareRandom, { mac: link.mac });
  stack = s;
  log(`took ${IFKEY}, MAC ${macToString(s.netif.mac)}`);
  const dhcp = new DhcpClient(s, { hostName: settings.hostname });
  dhcp.onBound = (lease) => log(`address ${describe(lease)}`);
  dhcp.onChanged = (lease) => log(`address changed: ${describe(lease)}`);
  dhcp.onLost = (reason) => log(`address lost (${reason})`);
  dhcp.start();
  startServers(s);
}

bringUp({ up: linkUp, down: () => log("link down"), log });
