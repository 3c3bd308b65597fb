// How `npm run import:django` shows its progress on standard error: a bar on a terminal
// (cli-progress), a plain line per batch elsewhere (a log, CI), so the report on standard output
// stays clean.
import cliProgress from "cli-progress";
import type { ImportProgress } from "./import.js";

export function progressOn(stream: NodeJS.WriteStream, now: () => number = Date.now): ImportProgress {
  return stream.isTTY ? progressBar(stream) : progressLines(stream, now);
}

function progressBar(stream: NodeJS.WriteStream): ImportProgress {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: "Importing |{bar}| {percentage}% · {value}/{total} users · ETA {eta_formatted}",
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let checking = false;
  const endCheckingLine = () => {
    if (checking) stream.write("\n");
    checking = false;
  };
  return {
    checked(rows) {
      stream.write(`\rChecking the Django users: ${rows}`);
      checking = true;
    },
    start(total) {
      endCheckingLine();
      bar.start(total, 0);
      started = true;
    },
    advance(done) {
      bar.update(done);
    },
    stop() {
      endCheckingLine();
      if (started) bar.stop();
      started = false;
    },
  };
}

function progressLines(stream: NodeJS.WriteStream, now: () => number): ImportProgress {
  let batch = 0;
  let startedAt = 0;
  let lastChecked = 0;
  return {
    checked(rows) {
      lastChecked = rows;
    },
    start(total) {
      stream.write(`Checked ${lastChecked} Django users; importing ${total}.\n`);
      startedAt = now();
    },
    advance(done, total) {
      batch++;
      const seconds = Math.max((now() - startedAt) / 1000, 0.001);
      const percent = total === 0 ? 100 : Math.floor((done / total) * 100);
      stream.write(
        `batch ${batch}: ${done}/${total} users (${percent}%), ${Math.round(done / seconds)} users/s\n`,
      );
    },
    stop() {},
  };
}
