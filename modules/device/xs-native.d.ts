// Moddable's Native()/native() API ("XS in C", section Native): xsc turns a call with one
// string literal into the host function or host constructor of that name, so bindings stay
// plain TypeScript. @moddable/typings does not declare them. The host program in
// native/host-device defines the same two globals at run time from a table of its functions.

/** The host function named `name` (an xsCallback such as "xs_netstack_sum16"). */
declare function native<F extends (...args: never[]) => unknown>(name: string): F;

/** A base class whose instances are host objects; `destructor` runs when XS collects one. */
declare function Native(destructor: string): new () => object;
