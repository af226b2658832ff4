"""What `pio run -t tinyml-info` shows: the text it prints (text.py) and the HTML page it
writes per model (html.py, svg.py, pages.py), over each model's .tflite parsed once
(parsed.py)."""
