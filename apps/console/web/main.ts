import "./styles.css";
import { startConsole } from "./app.js";

const root = document.getElementById("app");
if (root) startConsole(root);
