"""Running the pipeline over many videos: analysis per video, backends, resumable runs."""
