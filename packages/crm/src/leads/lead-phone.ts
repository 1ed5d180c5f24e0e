import { badRequest } from "@ecodrix/platform";
import { type CountryCode, isSupportedCountry, parsePhoneNumberFromString } from "libphonenumber-js";
import { CrmErrorCode } from "../shared/crm-errors.js";

/** The region of numbers written without a country code, when the client has no `defaultCountry`. */
export const FALLBACK_COUNTRY = "IN";

/**
 * A phone number as the client typed it → E.164 (`+919812345678`). Numbers without a country code
 * are read in `defaultCountry` (the client's setting, else India). 400 naming `field` when it is not
 * a valid number there.
 */
export function normalizePhone(
  input: string,
  defaultCountry: string | undefined,
  field = "body/phone",
): string {
  const region = defaultCountry && isSupportedCountry(defaultCountry) ? defaultCountry : FALLBACK_COUNTRY;
  const parsed = parsePhoneNumberFromString(input, region as CountryCode);
  if (!parsed?.isValid()) {
    throw badRequest(
      CrmErrorCode.invalidPhone,
      `${field} is not a valid phone number (numbers without a country code are read as ${region}; write others as +<country code><number>)`,
    );
  }
  return parsed.number;
}
