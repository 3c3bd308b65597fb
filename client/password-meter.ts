// The sign-up page's live password check. It runs the server's own rules (bundled from
// src/accounts/password-policy.ts), so what it says is what the server will say.
import { passwordProblems, strengthEstimator } from "../src/accounts/password-policy.js";

const labels = ["Very weak", "Weak", "Fair", "Good", "Strong"];

function setUp(): void {
  const password = document.querySelector<HTMLInputElement>("#id_password1");
  const username = document.querySelector<HTMLInputElement>("#id_username");
  const meter = document.querySelector<HTMLMeterElement>("#password-meter");
  const verdict = document.querySelector<HTMLElement>("#password-strength");
  if (!password || !username || !meter || !verdict) return;

  let timer: ReturnType<typeof setTimeout> | undefined;
  const update = () => {
    const value = password.value;
    if (value === "") {
      meter.hidden = true;
      verdict.textContent = "";
      return;
    }
    const problems = passwordProblems(value, { username: username.value });
    const score = problems.length > 0 ? 0 : Math.max(1, strengthEstimator().check(value).score);
    meter.hidden = false;
    meter.value = score;
    meter.dataset.score = String(score);
    verdict.className = `d-block mt-1 ${problems.length > 0 ? "text-danger" : "text-success"}`;
    verdict.textContent =
      problems.length > 0
        ? `Not accepted yet: ${problems.join(" ")}`
        : `${labels[score] ?? "Strong"} password: the server will accept it.`;
  };
  // Waits for a pause in typing: the estimate takes a few milliseconds on long passwords.
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(update, 150);
  };
  password.addEventListener("input", schedule);
  username.addEventListener("input", schedule);
  update();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
else setUp();
