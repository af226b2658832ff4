"""Analysis of an int8 .tflite without TensorFlow: ops, shapes, MACs, budget."""
