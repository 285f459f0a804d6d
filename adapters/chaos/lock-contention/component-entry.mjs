// Entry of a lock-contention component in its own process (fork) or worker thread: registers the TypeScript hooks, then
// runs the component and reports its history to the coordinator.
import '../../../bin/register-typescript.mjs';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';

const { Component } = await import('./component.ts');
const config = isMainThread ? JSON.parse(process.argv[2]) : workerData;
const send = isMainThread ? (message) => process.send(message) : (message) => parentPort.postMessage(message);
const component = new Component(config, send);
const onMessage = async (message) => {
  if (message.type === 'start') {
    const result = await component.run(performance.now() + message.delayMs);
    send({ type: 'result', result });
    if (isMainThread) process.disconnect(); else parentPort.close();
  } else {
    component.onMessage(message);
  }
};
if (isMainThread) process.on('message', onMessage); else parentPort.on('message', onMessage);
send({ type: 'ready' });
