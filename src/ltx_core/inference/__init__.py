"""Using a trained model: a checkpoint rebuilt alone (``loading``), scored on a test split
(``evaluation``), predicting through one ``Predictor`` (``predictor``, ``streaming``) with
typed options (``options``), rows batched and written (``batching``, ``writers``),
and the body of ``ltx predict`` (``predict``)."""
