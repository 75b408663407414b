/** SERVER_SOFTWARE seen by functions. The same on every target, so responses compare equal. */
export const SERVER_SOFTWARE = 'wfn/0.1';
