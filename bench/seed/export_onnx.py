"""Seed stage 1: a PyTorch state_dict -> ONNX with torch.onnx.export.

python export_onnx.py CLASS_FILE.py STATE_DICT.pth OUT.onnx 1,1,8,8
"""

import importlib.util
import sys

import torch


def main() -> None:
    class_file, weights, out, shape = sys.argv[1:5]
    spec = importlib.util.spec_from_file_location("seed_model", class_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    classes = [
        v
        for v in vars(module).values()
        if isinstance(v, type) and issubclass(v, torch.nn.Module) and v.__module__ == "seed_model"
    ]
    model = classes[0]()
    model.load_state_dict(torch.load(weights, map_location="cpu"))
    model.eval()
    dummy = torch.zeros([int(d) for d in shape.split(",")])
    torch.onnx.export(
        model,
        (dummy,),
        out,
        dynamo=False,
        opset_version=17,
        input_names=["input"],
        output_names=["output"],
    )


if __name__ == "__main__":
    main()
