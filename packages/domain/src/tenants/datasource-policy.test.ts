import { describe, expect, it } from "vitest";
import { assertSafeUriOptions, sameCluster, uriHosts } from "./datasource-policy.js";

describe("datasource policy", () => {
  it("compares clusters by host, whatever the credentials, order, case, default port or loopback spelling", () => {
    expect(uriHosts("mongodb://u:p@H1.example.com,h2.example.com:27018/db?replicaSet=rs")).toEqual([
      "h1.example.com:27017",
      "h2.example.com:27018",
    ]);
    expect(uriHosts("mongodb+srv://u:p@Cluster0.abc.mongodb.net/db")).toEqual([
      "srv:cluster0.abc.mongodb.net",
    ]);
    expect(sameCluster("mongodb://127.0.0.1:4000/a", "mongodb://x:y@localhost:4000/b")).toBe(true);
    expect(sameCluster("mongodb://h1:27017,h2/a", "mongodb://h3,H2:27017/a")).toBe(true);
    expect(sameCluster("mongodb://127.0.0.1:4000/a", "mongodb://127.0.0.1:4001/a")).toBe(false);
    expect(sameCluster("mongodb+srv://c0.abc.mongodb.net/a", "mongodb+srv://c1.abc.mongodb.net/a")).toBe(
      false,
    );
  });

  it("accepts the documented options in any case and refuses the rest", () => {
    expect(() =>
      assertSafeUriOptions("mongodb://h/db?RETRYWRITES=true&w=majority&authMechanism=scram-sha-256&tls=true"),
    ).not.toThrow();
    expect(() => assertSafeUriOptions("mongodb://h/db")).not.toThrow();
    expect(() => assertSafeUriOptions("mongodb://h/db?tlsCRLFile=/x")).toThrow(
      /option "tlsCRLFile" is not allowed/,
    );
    expect(() => assertSafeUriOptions("mongodb://h/db?authMechanism=PLAIN")).toThrow(
      /option authMechanism=PLAIN is not allowed/,
    );
    expect(() => assertSafeUriOptions("mongodb://h/db?authMechanism=hunter2")).toThrow(
      /^body\/dbUri this authMechanism is not allowed/,
    );
    expect(() => assertSafeUriOptions("mongodb://h/db?pass%20word%3Dhunter2=1")).toThrow(
      /^body\/dbUri an option is not allowed/,
    );
  });
});
