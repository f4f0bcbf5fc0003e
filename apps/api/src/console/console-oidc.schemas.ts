import { z } from 'zod';

/** POST /console/oidc/redeem: the code from `#/signed-in/<code>` (43 base64url characters). */
export const redeemHandoverSchema = z.object({ code: z.string().min(1).max(200) }).strict();
export type RedeemHandoverInput = z.infer<typeof redeemHandoverSchema>;
