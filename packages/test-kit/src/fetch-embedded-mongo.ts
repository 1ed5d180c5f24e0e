// `npm run embedded-mongo:fetch`: fetches mongo-java-server from Maven Central and builds the launcher.
import { ensureEmbeddedMongoBuilt } from "./embedded-mongo.js";

await ensureEmbeddedMongoBuilt();
console.log("embedded MongoDB server ready (packages/test-kit/java/target)");
