"""Running and inspecting TFLite files in LiteRT (`ai-edge-litert`), the TFLite runtime.

`tf.lite.Interpreter` is deprecated; LiteRT's interpreter runs the files as phones do (on the
CPU through XNNPACK). The op list is read from the file itself with LiteRT's flatbuffer schema.
"""

from __future__ import annotations

import time

import numpy as np
from ai_edge_litert import schema_py_generated as schema
from ai_edge_litert.interpreter import Interpreter

# Ops a phone-ready BiT file must not hold: resource variables (a model not frozen), TF ops
# through Flex/Select and custom ops (neither is in the stock runtime).
FORBIDDEN_OPS = ("VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE", "CUSTOM", "CALL_ONCE")
_OP_NAMES = {
    code: name for name, code in vars(schema.BuiltinOperator).items() if not name.startswith("_")
}


def _opcode_names(model) -> list[str]:
    # The name of each entry of the file's operator-code table (custom ops with their own name).
    codes = []
    for i in range(model.OperatorCodesLength()):
        code = model.OperatorCodes(i)
        # Builtin codes above 127 live in BuiltinCode; older files use the deprecated field.
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        name = _OP_NAMES.get(builtin, str(builtin))
        if name == "CUSTOM":
            name = f"CUSTOM:{(code.CustomCode() or b'').decode()}"
        codes.append(name)
    return codes


def op_names(content: bytes) -> list[str]:
    """The operators of a TFLite file, one entry per op in the graph (main subgraph first)."""
    model = schema.Model.GetRootAs(content, 0)
    codes = _opcode_names(model)
    names = []
    for s in range(model.SubgraphsLength()):
        graph = model.Subgraphs(s)
        names += [codes[graph.Operators(i).OpcodeIndex()] for i in range(graph.OperatorsLength())]
    return names


def computed_conv_kernels(content: bytes) -> list[str]:
    """The CONV_2D/FULLY_CONNECTED weights that are not constants of the file.

    A folded, frozen model has none: every kernel is stored data (or stored float16 data that
    a DEQUANTIZE widens). A kernel computed by other ops, or fed in, means weight
    standardization (or something else) runs on every call.
    """
    model = schema.Model.GetRootAs(content, 0)
    codes = _opcode_names(model)
    graph = model.Subgraphs(0)
    ops = [graph.Operators(i) for i in range(graph.OperatorsLength())]
    producer = {int(t): op for op in ops for t in op.OutputsAsNumpy()}

    def stored(tensor: int) -> bool:
        buffer = model.Buffers(graph.Tensors(tensor).Buffer())
        # Small files hold the data inline; files over 2 GB point past the flatbuffer.
        return buffer.DataLength() > 0 or buffer.Size() > 0

    computed = []
    for op in ops:
        if codes[op.OpcodeIndex()] not in ("CONV_2D", "FULLY_CONNECTED"):
            continue
        kernel = int(op.InputsAsNumpy()[1])
        source = producer.get(kernel)
        if source is not None and codes[source.OpcodeIndex()] == "DEQUANTIZE":
            kernel, source = int(source.InputsAsNumpy()[0]), None
        if source is not None or not stored(kernel):
            computed.append(graph.Tensors(kernel).Name().decode())
    return computed


def interpreter(content: bytes, num_threads: int = 2) -> Interpreter:
    """A LiteRT interpreter of a TFLite file, tensors allocated."""
    runner = Interpreter(model_content=content, num_threads=num_threads)
    runner.allocate_tensors()
    return runner


def run(content: bytes, images: np.ndarray, *, num_threads: int = 2) -> tuple[np.ndarray, float]:
    """Runs a TFLite file image by image (its batch is fixed at 1) in LiteRT.

    `images` are float32 in [0, 1], `(count, height, width, 3)` at the file's size. Float
    inputs are quantized and int8 outputs dequantized with the file's own parameters,
    so the outputs are comparable with the Keras model's whatever the file's I/O types.

    Returns:
        `(outputs float32 (count, ...), median latency of one image in milliseconds)`.
    """
    runner = interpreter(content, num_threads)
    (key,) = runner.get_signature_list()
    signature = runner.get_signature_runner(key)
    ((input_name, input_detail),) = signature.get_input_details().items()
    ((output_name, output_detail),) = signature.get_output_details().items()
    shape = tuple(int(d) for d in input_detail["shape"])
    if tuple(images.shape[1:]) != shape[1:]:
        raise ValueError(
            f"The TFLite file takes images of shape {shape} (batch 1, "
            f"fixed at export). Received: images of shape {images.shape}"
        )
    outputs, times = [], []
    for image in images:
        x = _quantize(image[None].astype(np.float32), input_detail)
        start = time.perf_counter()
        y = signature(**{input_name: x})[output_name]
        times.append(time.perf_counter() - start)
        outputs.append(_dequantize(y, output_detail))
    # The first calls pay for XNNPACK's set-up; the median leaves them out.
    return np.concatenate(outputs), 1000 * float(np.median(times))


def _quantize(x: np.ndarray, detail: dict) -> np.ndarray:
    dtype = detail["dtype"]
    if dtype == np.float32:
        return x
    scale, zero_point = _quantization(detail)
    info = np.iinfo(dtype)
    return np.clip(np.round(x / scale + zero_point), info.min, info.max).astype(dtype)


def _dequantize(y: np.ndarray, detail: dict) -> np.ndarray:
    if detail["dtype"] == np.float32:
        return y
    scale, zero_point = _quantization(detail)
    return ((y.astype(np.float32) - zero_point) * scale).astype(np.float32)


def _quantization(detail: dict) -> tuple[float, int]:
    params = detail["quantization_parameters"]  # per-tensor at the I/O of a whole model
    return float(params["scales"][0]), int(params["zero_points"][0])
