# syntax=docker/dockerfile:1
FROM mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20251130.v1
RUN conda update -n base -c defaults conda
