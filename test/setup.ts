// Every test starts with a quiet logger; tests that assert on log lines install their own sink.
import { setLogSink } from "../functions/shared/platform/log";
import { installNetworkGuard } from "./support/network-guard";

setLogSink(() => {});
// Tests reach the simulators on loopback and nothing else (test/support/network-guard.ts).
installNetworkGuard();
