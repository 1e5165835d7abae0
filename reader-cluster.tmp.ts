import { startCluster } from "/work/wt-reader/test/k8s/cluster.js";
const c = await startCluster();
console.log("KUBECONFIG=" + c.kubeconfig);
process.on("SIGTERM", async () => { await c.stop(); process.exit(0); });
setInterval(() => {}, 1 << 30);
