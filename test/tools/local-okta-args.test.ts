/** `npm run okta` options for counted sequences: --count, --outcome, --ip, --actor (tools/local-okta/args.ts). */
import { describe, expect, it } from "vitest";
import { parseCommand, UsageError } from "../../tools/local-okta/args";
import { actorNamed, oktaEvent } from "../../tools/local-okta/builders";

const SMS = "system.sms.send_phone_verification_message";

describe("npm run okta -- send", () => {
  it("sends --count events with the --outcome, --ip and --actor given", () => {
    const command = parseCommand([
      "send",
      SMS,
      "--count",
      "5",
      "--outcome",
      "deny",
      "--ip",
      "198.51.100.7",
      "--actor",
      "00uadmin2",
    ]);
    expect(command).toMatchObject({
      kind: "send",
      eventTypes: [SMS, SMS, SMS, SMS, SMS],
      result: "DENY",
      ipAddress: "198.51.100.7",
      actorId: "00uadmin2",
    });
    const event = oktaEvent({ eventType: SMS, ipAddress: "198.51.100.7", actor: actorNamed("00uadmin2") });
    expect(event).toMatchObject({
      client: { ipAddress: "198.51.100.7" },
      actor: { id: "00uadmin2", alternateId: "00uadmin2@example.com", type: "User" },
    });
    expect(actorNamed("ann@example.com").alternateId).toBe("ann@example.com");
  });

  it("keeps --result as the same option as --outcome", () => {
    expect(parseCommand(["send", SMS, "--result", "FAILURE"])).toMatchObject({ result: "FAILURE" });
    expect(() => parseCommand(["send", SMS, "--result", "A", "--outcome", "B"])).toThrow(/same option/);
  });

  it.each([
    [["send", SMS, "--ip", "not-an-ip"], /--ip is not an IP address: not-an-ip/],
    [["send", SMS, "--outcome", "DENY; rm"], /--outcome is a word/],
    [["send", SMS, "--actor", "two words"], /--actor is an id without spaces/],
    [["verify", "--ip", "198.51.100.7"], /--ip only applies to send/],
  ])("refuses %j", (argv, message) => {
    expect(() => parseCommand(argv)).toThrow(UsageError);
    expect(() => parseCommand(argv)).toThrow(message);
  });
});
