#!/usr/bin/env node
// Backpropagation in plain JavaScript, speaking the conformance suite's JSON-lines protocol.
//
//   python -m conformance --impl-cmd "node conformance/examples/node/backprop.js"
//
// One request per line on stdin, one answer per line on stdout (conformance/CONTRACT.md):
//   {"id": 1, "op": "capabilities"}            -> {"id": 1, "activations": [...], ...}
//   {"id": 2, "op": "backprop", "case": {...}} -> {"id": 2, "grad_weights": [...], ...}
//   {"id": 3, "op": "sgd_step", "case": {...}, "eta": 0.1} -> {"id": 3, "weights": [...], "biases": [...]}
// Anything that goes wrong becomes {"id": N, "error": "..."}; the program ends when stdin closes.
//
// Second use, for the frozen golden vectors:
//   node backprop.js --vectors conformance/vectors RESULTS_DIR
//   python -m conformance verify RESULTS_DIR
//
// Notation of the seed (Nielsen ch. 2): layers 1..L, weights[i] is w^{i+2} with shape
// (n_{i+2}, n_{i+1}), z^l = w^l a^{l-1} + b^l, a^l = sigma(z^l), delta^l = dC/dz^l.
// Every number is a JavaScript double, so float32 cases are computed in float64
// (more accurate than float32, which the tolerances allow).
"use strict";

const fs = require("fs");
const path = require("path");
const readline = require("readline");

// ---------- activations: sigma and sigma' (written to stay finite for any finite z) ----------
function sigmoid(z) {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

const ACTIVATIONS = {
  sigmoid: { f: sigmoid, df: (z) => { const s = sigmoid(z); return s * (1 - s); } },
  tanh: { f: Math.tanh, df: (z) => { const t = Math.tanh(z); return 1 - t * t; } },
  relu: { f: (z) => (z > 0 ? z : 0), df: (z) => (z > 0 ? 1 : 0) }, // relu'(0) = 0
  identity: { f: (z) => z, df: () => 1 },
  softplus: { f: (z) => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z))), df: sigmoid },
};

function softmax(row) {
  const shift = Math.max(...row);
  const e = row.map((v) => Math.exp(v - shift));
  const total = e.reduce((s, v) => s + v, 0);
  return e.map((v) => v / total);
}

function logSoftmax(row) {
  const shift = Math.max(...row);
  const lse = Math.log(row.reduce((s, v) => s + Math.exp(v - shift), 0));
  return row.map((v) => v - shift - lse);
}

function activate(name, z) {
  if (name === "softmax") return softmax(z);
  const act = ACTIVATIONS[name];
  if (!act) throw new Error(`unknown activation ${JSON.stringify(name)}`);
  return z.map(act.f);
}

// ---------- one sample: forward pass, then equations 1 and 2 ----------
function forward(weights, biases, activations, x) {
  const zs = [];
  const as = [x]; // as[i] = a^{i+1}
  weights.forEach((w, i) => {
    const aPrev = as[i];
    const z = w.map((row, j) => row.reduce((s, wjk, k) => s + wjk * aPrev[k], biases[i][j]));
    zs.push(z);
    as.push(activate(activations[i], z));
  });
  return { zs, as };
}

function sampleCost(cost, zL, aL, y) {
  if (cost === "quadratic") return 0.5 * aL.reduce((s, a, j) => s + (a - y[j]) ** 2, 0);
  if (cost === "cross_entropy") {
    // -[y ln a + (1 - y) ln(1 - a)] with ln a = -softplus(-z), ln(1 - a) = -softplus(z)
    const sp = ACTIVATIONS.softplus.f;
    return zL.reduce((s, z, j) => s + y[j] * sp(-z) + (1 - y[j]) * sp(z), 0);
  }
  if (cost === "log_likelihood") {
    const ls = logSoftmax(zL);
    return -ls.reduce((s, v, j) => s + y[j] * v, 0);
  }
  throw new Error(`unknown cost ${JSON.stringify(cost)}`);
}

function outputError(cost, outName, zL, aL, y) {
  // cross_entropy (sigmoid) and log_likelihood (softmax): delta^L = a^L sum(y) - y (= a^L - y)
  if (cost === "cross_entropy") return aL.map((a, j) => a - y[j]);
  if (cost === "log_likelihood") {
    const sumY = y.reduce((s, v) => s + v, 0);
    return aL.map((a, j) => a * sumY - y[j]);
  }
  const grad = aL.map((a, j) => a - y[j]); // nabla_a C for the quadratic cost
  if (outName === "softmax") {
    // (da/dz)^T grad with da_i/dz_j = a_i ([i = j] - a_j)
    const dot = aL.reduce((s, a, j) => s + a * grad[j], 0);
    return aL.map((a, j) => a * (grad[j] - dot));
  }
  return grad.map((g, j) => g * ACTIVATIONS[outName].df(zL[j])); // equation 1
}

function sampleDeltas(c, zs, as, y) {
  const L1 = c.weights.length; // L - 1 layers carry z
  const deltas = new Array(L1);
  deltas[L1 - 1] = outputError(c.cost, c.activations[L1 - 1], zs[L1 - 1], as[L1], y);
  for (let i = L1 - 2; i >= 0; i--) {
    // equation 2: delta^l = ((w^{l+1})^T delta^{l+1}) (.) sigma'(z^l)
    const wNext = c.weights[i + 1];
    const dNext = deltas[i + 1];
    const df = ACTIVATIONS[c.activations[i]].df;
    deltas[i] = zs[i].map((z, k) => wNext.reduce((s, row, j) => s + row[k] * dNext[j], 0) * df(z));
  }
  return deltas;
}

// ---------- the batch: equations 3 and 4, with the reduction ----------
function checkCase(c) {
  for (const field of ["sizes", "activations", "cost", "reduction", "dtype", "weights", "biases", "x", "y"]) {
    if (!(field in c)) throw new Error(`case is missing the field ${field}`);
  }
  if (c.reduction !== "mean" && c.reduction !== "sum") {
    throw new Error(`unknown reduction ${JSON.stringify(c.reduction)}`);
  }
  if (c.x.length !== c.y.length || c.x.length === 0) throw new Error("x and y need the same number m >= 1 of rows");
}

function backprop(c) {
  checkCase(c);
  const m = c.x.length;
  const scale = c.reduction === "mean" ? 1 / m : 1;
  const gradW = c.weights.map((w) => w.map((row) => row.map(() => 0)));
  const gradB = c.biases.map((b) => b.map(() => 0));
  const deltas = c.weights.map(() => []);
  let total = 0;
  c.x.forEach((x, s) => {
    const { zs, as } = forward(c.weights, c.biases, c.activations, x);
    total += sampleCost(c.cost, zs[zs.length - 1], as[as.length - 1], c.y[s]);
    const d = sampleDeltas(c, zs, as, c.y[s]);
    d.forEach((delta, i) => {
      deltas[i].push(delta);
      delta.forEach((dj, j) => {
        gradB[i][j] += dj; // equation 3
        as[i].forEach((ak, k) => { gradW[i][j][k] += dj * ak; }); // equation 4
      });
    });
  });
  return {
    grad_weights: gradW.map((w) => w.map((row) => row.map((v) => v * scale))),
    grad_biases: gradB.map((b) => b.map((v) => v * scale)),
    deltas,
    cost: total * scale,
  };
}

function sgdStep(c, eta) {
  if (typeof eta !== "number" || !isFinite(eta)) throw new Error("eta must be a finite number");
  const g = backprop(c);
  return {
    weights: c.weights.map((w, i) => w.map((row, j) => row.map((v, k) => v - eta * g.grad_weights[i][j][k]))),
    biases: c.biases.map((b, i) => b.map((v, j) => v - eta * g.grad_biases[i][j])),
  };
}

const CAPABILITIES = {
  activations: ["sigmoid", "tanh", "relu", "identity", "softplus", "softmax"],
  costs: ["quadratic", "cross_entropy", "log_likelihood"],
  reductions: ["mean", "sum"],
  dtypes: ["float64", "float32"],
  outputs: ["deltas", "cost"],
};

// ---------- the wire format: non-finite numbers travel as "nan", "inf", "-inf" ----------
const FROM_STRING = { nan: NaN, inf: Infinity, "-inf": -Infinity };

function decode(text) {
  return JSON.parse(text, (key, value) => (typeof value === "string" && value in FROM_STRING ? FROM_STRING[value] : value));
}

function encode(value) {
  return JSON.stringify(value, (key, v) => {
    if (typeof v !== "number" || isFinite(v)) return v;
    return Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";
  });
}

function answer(request) {
  switch (request.op) {
    case "capabilities": return CAPABILITIES;
    case "backprop": return backprop(request.case);
    case "sgd_step": return sgdStep(request.case, request.eta);
    default: throw new Error(`unknown op ${JSON.stringify(request.op)}`);
  }
}

function serve() {
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  lines.on("line", (line) => {
    if (line.trim() === "") return;
    let id = null;
    let reply;
    try {
      const request = decode(line);
      id = request.id === undefined ? null : request.id;
      reply = { id, ...answer(request) };
    } catch (error) {
      reply = { id, error: String(error && error.message ? error.message : error) };
    }
    process.stdout.write(encode(reply) + "\n");
  });
}

function solveVectors(vectorsDir, outDir) {
  const manifest = decode(fs.readFileSync(path.join(vectorsDir, "manifest.json"), "utf8"));
  fs.mkdirSync(outDir, { recursive: true });
  for (const entry of manifest.vectors) {
    const vector = decode(fs.readFileSync(path.join(vectorsDir, entry.file), "utf8"));
    let result;
    try {
      result = backprop(vector.case);
    } catch (error) {
      result = { error: String(error.message || error) };
    }
    fs.writeFileSync(path.join(outDir, `${entry.id}.json`), encode(result) + "\n");
  }
  process.stderr.write(`wrote ${manifest.vectors.length} result files to ${outDir}\n`);
}

const args = process.argv.slice(2);
if (args[0] === "--vectors") {
  if (args.length !== 3) {
    process.stderr.write("usage: node backprop.js --vectors VECTORS_DIR RESULTS_DIR\n");
    process.exit(2);
  }
  solveVectors(args[1], args[2]);
} else {
  serve();
}
