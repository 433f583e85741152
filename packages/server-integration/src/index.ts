// This package's code is not written yet: it exports nothing (see README.md).
export {};
