// The registry of providers read with plain fetch (native.ts says what each supplies).
import type { NativeProvider, NativeProviderId } from "./native.ts";
import { dodo } from "./dodo/index.ts";
import { lemonsqueezy } from "./lemonsqueezy/index.ts";
import { paddle } from "./paddle/index.ts";
import { creem } from "./creem/index.ts";

export const NATIVE_PROVIDERS: Record<NativeProviderId, NativeProvider> = { dodo, lemonsqueezy, paddle, creem };
