#!/usr/bin/env node
// Thin entry point: the plugin lives in src/codegen/plugin.ts (built to dist/codegen).
import { runNodeJs } from "../dist/codegen/protoplugin.js";
import { protocGenSessionstream } from "../dist/codegen/plugin.js";

runNodeJs(protocGenSessionstream);
