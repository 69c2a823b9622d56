// Every test starts with a quiet logger; tests that assert on log lines install their own sink.
import { setLogSink } from "../functions/shared/platform/log";

setLogSink(() => {});
