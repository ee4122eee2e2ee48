// The one place the model code gets TensorFlow.js from. Generated files import `tf` from here, so which
// package provides it (tfjs-core, shared by every backend) is decided once.
import * as tf from "@tensorflow/tfjs-core";

export { tf };
