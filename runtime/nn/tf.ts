// The one place the model code gets TensorFlow.js from. Generated files import `tf` from here. The
// umbrella package is used (not tfjs-core alone) because in Node it is what registers the gradient
// functions training needs; every backend shares its engine.
import * as tf from "@tensorflow/tfjs";

export { tf };
