// The node-server app is not written yet (see README.md).
export {};
