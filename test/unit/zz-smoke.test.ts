import { runStack, one } from "./support/mocked-stack";
import { it } from "node:test";
it("smoke", async () => {
  const run = await runStack("dev");
  const c = one(run, "docker:index/container:Container");
  console.log(JSON.stringify(c.inputs.uploads).slice(0, 300));
  console.log(c.request.dependencies);
  console.log(JSON.stringify(c.request.rawInputs.uploads).slice(0,300));
});
